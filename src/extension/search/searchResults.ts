import * as vscode from 'vscode';
import { describeCause, searchHistory, type LineMatch, type RecoveryStore, type SearchHit, type SearchOptions, type SearchProgress, type VersionSpan } from '../../core';
import { formatRelativeTime, plural } from '../../core/format';
import { searchHistoryInWorker, type SearchWorkerOptions } from '../../core/history/searchWorker';
import type { Log } from '../log';
import type { Prompts } from '../prompts';
import { openVersion } from '../views/changeDiffs';
import { PointContentProvider } from '../views/pointContentProvider';
import type { WorkspaceFolders } from '../workspaceFolders';
import type { SearchQuery } from './searchQuery';

/** One matching line of one version: opens that version read-only at the line. */
export interface ResultItem extends vscode.QuickPickItem {
  readonly span: VersionSpan;
  readonly match: LineMatch;
}

/** Where the searches ran: in a worker thread (the extension's bundle has `dist/searchWorker.js`), or in the extension host. */
export interface SearchRuns {
  inWorker: number;
  inHost: number;
}

/** Lines shown per version, and results at most (the search stops there and says so). */
const LINES_PER_VERSION = 20;
const MAX_ITEMS = 5_000;
const UPDATE_EVERY_MS = 150;

/**
 * Runs a search and shows its results as they are found, in a quick pick: a separator per version
 * (its path and when it was kept), a row per matching line. Escape stops the search. Choosing a row
 * opens that version, read-only, at the line. With answers scripted (tests), the search runs to its
 * end and the rows are offered in a plain pick.
 */
export async function showSearchResults(
  store: RecoveryStore,
  folders: WorkspaceFolders,
  prompts: Prompts,
  log: Log,
  query: SearchQuery,
  where: { readonly worker: SearchWorkerOptions | undefined; readonly runs: SearchRuns },
): Promise<ResultItem | undefined> {
  // in a worker thread, the host's thread and heap do none of it (a long search's garbage collections held the thread 20–40 ms)
  const search = (searchOptions: SearchOptions) => {
    if (where.worker) where.runs.inWorker++;
    else where.runs.inHost++;
    return where.worker ? searchHistoryInWorker(where.worker, store, query.pattern, searchOptions) : searchHistory(store, query.pattern, searchOptions);
  };
  const title = `Search History: ${query.regex ? `/${query.pattern}/` : `"${query.pattern}"`}${query.caseSensitive ? ' (Match Case)' : ''}`;
  const options = { regex: query.regex, caseSensitive: query.caseSensitive, paths: query.paths, maxLinesPerVersion: LINES_PER_VERSION };
  if (prompts.pending > 0) {
    const items: Array<ResultItem | vscode.QuickPickItem> = [];
    let last: SearchProgress | undefined;
    for await (const hit of search({ ...options, onProgress: (p) => (last = p) })) items.push(...itemsOf(hit, folders));
    const chosen = await prompts.pick(items.filter(isResult), { title, placeHolder: last ? progressText(last, items.length) : '' });
    if (chosen) await openResult(chosen);
    return chosen;
  }

  const pick = vscode.window.createQuickPick<ResultItem | vscode.QuickPickItem>();
  pick.title = title;
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  pick.keepScrollPosition = true;
  pick.busy = true;
  pick.placeholder = 'Searching every version of every file…';
  const controller = new AbortController();
  const items: Array<ResultItem | vscode.QuickPickItem> = [];
  let shown = 0;
  let lastUpdate = 0;
  const update = (progress: SearchProgress | undefined, force = false) => {
    if (!force && performance.now() - lastUpdate < UPDATE_EVERY_MS) return;
    lastUpdate = performance.now();
    if (items.length !== shown) {
      shown = items.length;
      pick.items = [...items];
    }
    if (progress) pick.placeholder = progressText(progress, items.filter(isResult).length);
  };
  const chosen = new Promise<ResultItem | undefined>((resolve) => {
    pick.onDidAccept(() => {
      const item = pick.selectedItems[0];
      if (item && isResult(item)) {
        resolve(item);
        pick.hide();
      }
    });
    pick.onDidHide(() => {
      controller.abort();
      resolve(undefined);
    });
  });
  pick.show();
  let last: SearchProgress | undefined;
  try {
    for await (const hit of search({ ...options, signal: controller.signal, onProgress: (p) => ((last = p), update(p)) })) {
      items.push(...itemsOf(hit, folders));
      if (items.length >= MAX_ITEMS) {
        controller.abort();
        pick.placeholder = `Stopped at ${MAX_ITEMS.toLocaleString()} results: narrow the search (Match Case, a regular expression, Files to Include).`;
      }
      update(last);
    }
    if (items.length < MAX_ITEMS) update(last, true);
    else pick.items = [...items];
  } catch (error) {
    log.error('command', `Search History failed: ${describeCause(error)}`, error);
    pick.placeholder = `The search failed: ${describeCause(error)}`;
  } finally {
    pick.busy = false;
  }
  const result = await chosen;
  pick.dispose();
  if (result) await openResult(result);
  return result;
}

/** Opens the version a result names, read-only, with the match selected. */
export async function openResult(item: ResultItem): Promise<vscode.TextEditor | undefined> {
  const uri = PointContentProvider.uri(item.span.path, item.span.lastPointId);
  const line = item.match.line - 1;
  const selection = new vscode.Range(line, item.match.column, line, item.match.column + item.match.length);
  return openVersion(uri, { id: item.span.lastPointId, createdAt: item.span.lastTime }, { selection });
}

function itemsOf(hit: SearchHit, folders: WorkspaceFolders): Array<ResultItem | vscode.QuickPickItem> {
  const span = hit.spans[0]!;
  const others = hit.spans.length > 1 ? ` (also at ${plural(hit.spans.length - 1, 'other path')})` : '';
  const separator: vscode.QuickPickItem = { label: `${folders.display(span.path)} · ${describeSpan(span)}${others}`, kind: vscode.QuickPickItemKind.Separator };
  const rows: ResultItem[] = hit.lines.map((match) => ({
    label: match.preview.trim() || '(empty line)',
    description: `${folders.display(span.path)}:${match.line}`,
    alwaysShow: false,
    span,
    match,
  }));
  if (hit.moreLines) rows.push({ label: `$(ellipsis) more matching lines in this version`, description: `${folders.display(span.path)}`, span, match: hit.lines.at(-1)! });
  return [separator, ...rows];
}

/** "kept 2 h ago" or "kept 3 days ago – 5 min ago". */
export function describeSpan(span: VersionSpan): string {
  const first = formatRelativeTime(Date.parse(span.firstTime));
  const last = formatRelativeTime(Date.parse(span.lastTime));
  return span.firstPointId === span.lastPointId ? `kept ${first}` : `kept ${first} – ${last}`;
}

function progressText(progress: SearchProgress, found: number): string {
  const share = progress.totalBytes > 0 ? Math.floor((100 * progress.searchedBytes) / progress.totalBytes) : 100;
  const lines = `${plural(found, 'matching line')} in ${plural(progress.matches, 'version')}`;
  if (!progress.done && progress.searched < progress.total) return `Searching… ${share}% of ${plural(progress.total, 'version')} — ${lines} so far (Escape stops)`;
  if (!progress.done && progress.total === 0) return 'Stopped before any version was searched';
  if (!progress.done) return `Stopped after ${progress.searched} of ${plural(progress.total, 'version')} — ${lines}`;
  const skipped = progress.binary > 0 ? `, ${progress.binary} binary skipped` : '';
  return progress.matches === 0 ? `No matches in ${plural(progress.total, 'version')}${skipped}` : `${lines} (${plural(progress.total, 'version')} searched${skipped}) — type to filter`;
}

function isResult(item: ResultItem | vscode.QuickPickItem): item is ResultItem {
  return 'span' in item;
}
