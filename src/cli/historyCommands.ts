import { typedPath } from '../core/recovery/workspacePaths';
import type { WorkspaceRoot } from '../core/schemas';
import { formatRelativeTime } from '../core/format';
import { fileVersionJson } from '../core/agentTools/historyQueries';
import { readFileHistory, type FileVersion } from '../core/history/fileHistory';
import { readPointEntry, throughLinkSentence } from '../core/history/versionContent';
import { InputError } from './args';
import type { CommandSpec } from './commandIndex';
import { pathArgument, resolveId } from './commands';
import { escapeForTerminal as t } from './terminalText';

/** Reading history from the file's side: its versions, and one version's bytes. */
export const HISTORY_COMMANDS: Record<string, CommandSpec> = {
  log: {
    positionals: [1, 1],
    withoutFolder: true,
    run: async (store, args, out) => {
      const pointPath = pathArgument(store, args.positionals[0]!, args.cwd);
      const roots = store.persistence.workspaceRoots;
      const history = await readFileHistory(store, pointPath);
      if (history.versions.length === 0) {
        const newest = (await store.recovery.listRecoveryPoints())[0];
        if (newest && (await readPointEntry(store, newest.id, pointPath))?.entry.kind === 'd') throw new InputError(`${args.positionals[0]} is a folder; "log" lists the versions of a file.`);
        throw new InputError(throughLinkSentence(roots, args.positionals[0]!, pointPath, (link) => t(typedPath(roots, link))) ?? `No recovery point holds ${args.positionals[0]}${readAs(roots, args.positionals[0]!, pointPath)}.`);
      }
      const lines = history.versions.map((v) => {
        const when = `${v.point.createdAt.slice(0, 19).replace('T', ' ')} ${`(${formatRelativeTime(Date.parse(v.point.createdAt))})`.padEnd(14)}`;
        return `${v.point.id}  ${when} ${describeLines(v).padEnd(12)} ${t(v.point.label ? `[${v.point.label}] ${v.point.summary}` : v.point.summary)}${notes(v, roots)}`;
      });
      out.result(lines.join('\n'), history.versions.map(fileVersionJson));
    },
  },
  cat: {
    positionals: [2, 2],
    withoutFolder: true,
    run: async (store, args, out, points) => {
      const id = await resolveId(store, args.positionals[0]!, points);
      const pointPath = pathArgument(store, args.positionals[1]!, args.cwd);
      const found = await readPointEntry(store, id, pointPath);
      if (found?.entry.kind === 'd') throw new InputError(`${args.positionals[1]} is a folder in recovery point ${id}; "cat" writes a file.`);
      const version = found && { hash: found.entry.hash, bytes: await (await store.persistence.objects()).readBlob(found.entry.hash) };
      if (!version) {
        const roots = store.persistence.workspaceRoots;
        const typed = args.positionals[1]!;
        throw new InputError(throughLinkSentence(roots, typed, pointPath, (link) => t(typedPath(roots, link))) ?? `Recovery point ${id} does not hold ${typed}${readAs(roots, typed, pointPath)}; "recovery-points log ${typed}" lists the points that do.`);
      }
      if (args.json) {
        const text = version.bytes.toString('utf8');
        const utf8 = Buffer.from(text, 'utf8').equals(version.bytes);
        out.result('', { pointId: id, path: pointPath, hash: version.hash, size: version.bytes.length, encoding: utf8 ? 'utf8' : 'base64', content: utf8 ? text : version.bytes.toString('base64') });
        return;
      }
      out.bytes(version.bytes);
    },
  },
};

/** ` (as src/a.ts)` when the path a person typed was read as another (from the current folder, or absolute); empty otherwise. */
function readAs(roots: readonly WorkspaceRoot[], typed: string, pointPath: string): string {
  const shown = typedPath(roots, pointPath);
  return shown === typed.replace(/\\/g, '/').replace(/\/+$/, '') ? '' : ` (as ${t(shown)})`;
}

function describeLines(v: FileVersion): string {
  if (v.kind === 'deleted') return v.noLongerTracked ? 'no longer tracked' : v.renamedTo ? 'moved' : 'deleted';
  if (!v.lines && v.modeChange) return v.modeChange;
  if (v.binary || !v.lines) return 'binary';
  return `+${v.lines.added} \u2212${v.lines.removed}`;
}

function notes(v: FileVersion, roots: readonly WorkspaceRoot[]): string {
  const parts: string[] = [];
  if (v.renamedFrom) parts.push(`renamed from ${t(typedPath(roots, v.renamedFrom))}`);
  if (v.renamedTo) parts.push(`renamed to ${t(typedPath(roots, v.renamedTo))}`);
  if (v.modeChange && v.lines) parts.push(v.modeChange);
  if (v.sameAsPointId) parts.push(`same as ${v.sameAsPointId}`);
  if (v.earlierRemoved === 'before') parts.push('or earlier: the points before it are not kept');
  if (v.earlierRemoved === 'between') parts.push('or in a point between it and the entry below, not kept');
  if (v.current) parts.push('current');
  return parts.length === 0 ? '' : `  (${parts.join('; ')})`;
}
