import * as fs from 'node:fs';
import * as path from 'node:path';
import { adoptStore, bundleTargetProblem, exportBundle, findMovedStores, folderFiles, importBundle, MATCH_THRESHOLD, NotABundle, StateError } from '../core';
import { formatBytes, plural } from '../core/format';
import { InputError, UsageError } from './args';
import type { CommandSpec } from './commandIndex';
import { resolveId } from './commands';
import { listExtensionStores, workspaceStorageInUse } from './storeLocator';

/** Moving history: bundles to and from other machines, and the store of a folder that was moved. */
export const TRANSFER_COMMANDS: Record<string, CommandSpec> = {
  export: {
    positionals: [0, 0],
    withoutFolder: true,
    options: ['--out', '--points', '--since'],
    run: async (store, args, out, points) => {
      if (!args.out) throw new UsageError('"export" needs --out FILE');
      const file = path.resolve(args.cwd, args.out);
      const folder = path.dirname(file);
      if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) throw new InputError(`The folder ${folder} for --out does not exist.`);
      const problem = bundleTargetProblem(store.persistence.layout.root, file);
      if (problem) throw new InputError(problem);
      if (args.points && args.since) throw new UsageError('give --points or --since, not both');
      const pointIds = args.points ? await Promise.all(args.points.map((id) => resolveId(store, id, points))) : undefined;
      let since: Date | undefined;
      if (args.since) {
        since = new Date(args.since);
        if (Number.isNaN(since.getTime())) throw new UsageError(`--since ${args.since} is not a date or time (for example 2026-11-29 or 2026-11-29T14:00:00Z)`);
      }
      const result = await exportBundle(store, file, { pointIds, since, onProgress: (m) => out.progress(m) });
      out.result(`Exported ${result.points.length} point${result.points.length === 1 ? '' : 's'} (${result.objects} stored objects, ${formatBytes(result.bytes)}) to ${result.file}.`, result);
    },
  },
  import: {
    positionals: [1, 1],
    run: async (store, args, out) => {
      const file = path.resolve(args.cwd, args.positionals[0]!);
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (!stat) throw new InputError(`The bundle ${file} does not exist.`);
      if (stat.isDirectory()) throw new InputError(`${file} is a folder, not a bundle file.`);
      // a file that is not a bundle at all is the wrong input (exit 2), as a missing one is; a damaged bundle is a failure (1)
      const result = await importBundle(store, file, { onProgress: (m) => out.progress(m) }).catch((error: unknown) => {
        throw error instanceof NotABundle ? new InputError(error.message) : error;
      });
      out.result(
        [
          `Imported ${result.added.length} point${result.added.length === 1 ? '' : 's'} (${result.objectsAdded} objects written, ${formatBytes(result.bytesWritten)}; ${result.objectsPresent} already in the store).`,
          ...(result.skipped.length > 0 ? [`${result.skipped.length} point${result.skipped.length === 1 ? ' was' : 's were'} already here.`] : []),
        ].join('\n'),
        result,
      );
    },
  },
  adopt: {
    positionals: [0, 0],
    options: ['--from'],
    run: async (store, args, out) => {
      let from = args.from ? path.resolve(args.cwd, args.from) : undefined;
      if (from && !fs.statSync(path.join(from, 'points'), { throwIfNoEntry: false })?.isDirectory()) {
        throw new InputError(`${from} is not a recovery point store (it has no points folder); check --from.`);
      }
      if (!from) {
        out.progress('Looking for the store of a moved folder');
        const own = path.resolve(store.persistence.layout.root);
        const candidates: string[] = [];
        for (const candidate of await listExtensionStores()) {
          if (path.resolve(candidate.dir) !== own && !(await workspaceStorageInUse(candidate.workspaceDir))) candidates.push(candidate.dir);
        }
        const current = await store.persistence.withCurrentTree((objects, root) => folderFiles(objects, root));
        const found = await findMovedStores(candidates, current, { log: (m) => process.stderr.write(`warning: ${m}\n`) });
        if (found.length === 0) {
          throw new StateError('SnapshotNotFound', `No store of a moved folder was found: none of a folder that no longer exists holds at least ${MATCH_THRESHOLD * 100} % of these files. Give one with --from STORE.`);
        }
        if (found.length > 1 && found[0]!.score.share === found[1]!.score.share) {
          throw new UsageError(`several stores match these files equally well: ${found.map((f) => f.storeDir).join(', ')}; choose one with --from STORE`);
        }
        from = found[0]!.storeDir;
        out.progress(`Found ${from} (${found[0]!.recordedFolders.join(', ')}: ${found[0]!.score.matched} of ${found[0]!.score.total} files match)`);
      }
      const result = await adoptStore(store.persistence, from, { onProgress: (m) => out.progress(m), state: store.state });
      out.result(
        [
          `Adopted ${result.adopted.length} point${result.adopted.length === 1 ? '' : 's'} from ${result.from}.`,
          ...(result.alreadyHere.length > 0 ? [`${result.alreadyHere.length} were already here.`] : []),
          ...(result.leftBehind.length > 0 ? [`${plural(result.leftBehind.length, 'damaged point')} stayed in ${result.from}.`] : []),
          ...(result.lastRestore ? ['Undo Last Restore (recovery-points undo) still undoes its last restore.'] : []),
        ].join('\n'),
        result,
      );
    },
  },
};
