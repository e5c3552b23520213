import * as path from 'node:path';
import { InclusionRules, ruleFileFolder } from '../capture/inclusionRules';
import type { CaptureCache, CaptureResult, CaptureRules, FileChange, KnownFile } from '../capture';
import type { Logger } from '../logger';
import type { WorkspaceRoot } from '../schemas';
import type { KnownTree } from './stateRepository';

export interface KnownCaptureInput {
  readonly known: KnownTree;
  /** The written files' stats and hashes, by absolute path (`SnapshotOptions.knownFiles`). */
  readonly files: ReadonlyMap<string, KnownFile> | undefined;
  /** The folders and rules a capture would use now. */
  readonly roots: readonly WorkspaceRoot[];
  readonly rules: CaptureRules;
  readonly neverCapture: readonly string[];
  readonly cache: CaptureCache;
  readonly logger: Logger;
}

/**
 * What a hint capture over the known tree's changed paths would return, without looking at them: the
 * known root, the changes as given, the written files recorded in the capture cache with the stats
 * their writes left. The caller has checked that the newest point is the one the tree was planned
 * against, under the same folders and rules. `undefined` when a capture could still see otherwise,
 * and must run: a changed path is an ignore file (new rules: a capture scans its folder again), or a
 * file the tree adds would be left out by the rules now (git's exclude files changed since).
 */
export async function knownCapture(input: KnownCaptureInput): Promise<CaptureResult | undefined> {
  const { known, roots, cache } = input;
  const { added, modified, deleted } = known.changes;
  const located = (change: FileChange) => {
    const slash = change.path.indexOf('/');
    const root = slash > 0 ? roots.find((r) => r.name === change.path.slice(0, slash)) : undefined;
    return root && { root, rel: change.path.slice(slash + 1) };
  };
  const places = new Map<FileChange, { root: WorkspaceRoot; rel: string }>();
  for (const change of [...added, ...modified, ...deleted]) {
    const place = located(change);
    if (!place || ruleFileFolder(place.rel) !== null) return undefined;
    places.set(change, place);
  }
  const rulesOf = new Map<string, Promise<InclusionRules>>();
  for (const change of added) {
    const { root, rel } = places.get(change)!;
    let rules = rulesOf.get(root.name);
    if (!rules) {
      rules = InclusionRules.create(root, input.rules, { neverCapture: input.neverCapture, roots, gitignores: cache.gitignores, logger: input.logger });
      rulesOf.set(root.name, rules);
    }
    if (!(await (await rules).isIncluded(rel, false))) return undefined;
  }
  const now = Date.now();
  for (const change of [...added, ...modified]) {
    const { root, rel } = places.get(change)!;
    const file = change.after?.kind === 'f' ? input.files?.get(path.join(root.path, ...rel.split('/'))) : undefined;
    // as the capture does: a file just written is kept aside as racy until it can be read again
    if (file && file.hash === change.after!.hash) cache.record(root.name, rel, file.stamp, file.hash, now);
    else cache.forget(root.name, rel);
  }
  for (const change of deleted) {
    const { root, rel } = places.get(change)!;
    cache.forget(root.name, rel);
  }
  return { root: known.root, fileCount: known.fileCount, totalSize: known.totalSize, mode: 'hint', filesHashed: 0, skipped: [], changes: known.changes };
}
