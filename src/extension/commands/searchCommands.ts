import type { RecoveryStore } from '../../core';
import type { Log } from '../log';
import type { Prompts } from '../prompts';
import { askSearchQuery, presetFromArgs, type SearchQuery } from '../search/searchQuery';
import type { SearchWorkerOptions } from '../../core/history/searchWorker';
import { showSearchResults, type SearchRuns } from '../search/searchResults';
import type { PointsFilter } from '../views/pointsFilter';
import type { WorkspaceFolders } from '../workspaceFolders';
import type { CommandHandler } from './commandCenter';

export interface SearchServices {
  readonly store: RecoveryStore;
  readonly folders: WorkspaceFolders;
  readonly filter: PointsFilter;
  readonly log: Log;
  readonly prompts: Prompts;
  /** The worker thread searches run in; `undefined`: in the extension host. */
  readonly searchWorker: SearchWorkerOptions | undefined;
  readonly searchRuns: SearchRuns;
}

/** Finding things in history: a search over every stored version, and the points tree's filter. */
export function searchCommands(s: SearchServices): Record<string, CommandHandler> {
  let previous: SearchQuery | undefined;
  return {
    'recoveryPoints.searchHistory': async (args?: unknown) => {
      const query = await askSearchQuery(s.prompts, { ...previous, ...presetFromArgs(args) });
      if (!query) return undefined;
      previous = query;
      const chosen = await showSearchResults(s.store, s.folders, s.prompts, s.log, query, { worker: s.searchWorker, runs: s.searchRuns });
      return chosen && { path: chosen.span.path, pointId: chosen.span.lastPointId, line: chosen.match.line };
    },
    'recoveryPoints.filterPoints': async () => {
      const text = await s.prompts.input({
        title: 'Filter Recovery Points',
        prompt: 'Shows the points whose label, summary, trigger (save, external, restore, …) or changed files hold every word. Empty clears the filter.',
        placeHolder: 'app.ts, a label, or a trigger such as "restore"',
        value: s.filter.value,
      });
      if (text === undefined) return undefined;
      s.filter.set(text);
      return undefined;
    },
    'recoveryPoints.clearFilter': () => s.filter.set(''),
  };
}
