import type { ChildProcess } from 'node:child_process';
import { StateError, type StateErrorKind } from '../errors';
import { formatBytes } from '../format';
import { silentLogger, type Logger } from '../logger';
import { ObjectStore, type GcResult } from '../objects/objectStore';
import { ChangeIndex } from '../recovery/changeIndex';
import { collectInSlices, type CollectionStart, type UnderLock } from '../recovery/collection';
import type { ChangeCounts, WorkspaceRoot } from '../schemas';
import { captureWorkspace, type CaptureResult } from './capture';
import { CaptureCache } from './captureCache';
import type { CaptureRules } from './inclusionRules';
import { countChanges } from './treeWalk';

/**
 * Where a store's first point is captured when not in the calling process: a Node script that calls
 * `serveCaptureRequests` (the extension's `dist/captureProcess.js`). A first point reads, hashes and
 * compresses every file of the workspace; in a process of its own, the memory that takes is the
 * operating system's again when it ends, not the extension host's for the rest of its life.
 */
export interface CaptureProcessOptions {
  readonly script: string;
  /** Node options for the process (tests run the TypeScript source with `--import tsx`). */
  readonly execArgv?: readonly string[];
}

/** What a capture process is asked: a full capture with no previous point, into the store's objects and capture cache. */
export interface CaptureRequest {
  readonly objectsDir: string;
  readonly cacheFile: string;
  readonly roots: readonly WorkspaceRoot[];
  readonly rules: CaptureRules;
  readonly neverCapture: readonly string[];
  /** Nothing captured: write nothing (a store's first point is not made of an empty workspace). */
  readonly skipIfEmpty: boolean;
}

/** A capture made in another process: its objects are in a pack it committed, its cache entries saved. */
export interface CapturedElsewhere {
  readonly captured: CaptureResult;
  /** Every file of a first point is added. */
  readonly counts: ChangeCounts;
  /** Names of the root tree's folders. */
  readonly rootFolders: readonly string[];
  /** Bytes of the pack it wrote (0 when it wrote none). */
  readonly addedBytes: number;
}

/**
 * Garbage collection of a store from the points and packs listed under the lock at its start (the
 * clean-up after a first point repacks all of it). It asks its caller for the lock for each slice.
 */
export interface GcRequest extends CollectionStart {
  readonly objectsDir: string;
  readonly repack: 'auto' | 'all';
  /** The change index's document: the oldest point's list of every file is built here, not in the caller (`ChangeIndex.writeOldestPair`). */
  readonly changeIndexFile?: string;
}

type Work = { readonly type: 'capture'; readonly request: CaptureRequest } | { readonly type: 'gc'; readonly request: GcRequest };
type FromParent =
  | Work
  | { readonly type: 'abort' }
  /** The lock the process asked for is held for it: the listed points' roots now. */
  | { readonly type: 'locked'; readonly roots: readonly string[] }
  | { readonly type: 'lock-failed'; readonly kind?: StateErrorKind; readonly message: string };
type FromChild =
  | { readonly type: 'progress'; readonly files: number }
  /** Asks the caller to take the store lock for a slice of the collection; `unlock` ends the slice. */
  | { readonly type: 'lock' }
  | { readonly type: 'unlock' }
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly message: string }
  | { readonly type: 'done'; readonly result: CapturedElsewhere | GcResult }
  | { readonly type: 'failed'; readonly kind?: StateErrorKind; readonly message: string; readonly aborted?: boolean };

/** How long a process asked to stop may take before it is killed. */
const ABORT_GRACE_MS = 10_000;

/**
 * Runs a first point's capture in a new process and waits for it: its pack is committed (durable) and
 * its cache entries saved when this resolves, so the caller refreshes its object store and reloads its
 * capture cache. Progress and log lines are passed on; `signal` asks the process to stop (and kills it
 * if it does not). A failure is the StateError the capture threw there; a process that ends without an
 * answer is a SnapshotCreationError. Either way no point exists: the caller writes the manifest only
 * after this resolves (a pack left without one is removed by the next clean-up).
 */
export function captureInProcess(
  options: CaptureProcessOptions,
  request: CaptureRequest,
  hooks: { readonly logger?: Logger; readonly signal?: AbortSignal; readonly onProgress?: (files: number) => void } = {},
): Promise<CapturedElsewhere> {
  return inProcess(options, { type: 'capture', request }, hooks, 'capturing the workspace', 'No recovery point was made.') as Promise<CapturedElsewhere>;
}

/**
 * Garbage collection (`collectInSlices`) in a new process: repacking recompresses every object a point
 * wrote, whose buffers and compressors would otherwise stay in the caller's memory. The caller does
 * not hold the store lock: `underLock` takes it for each slice the process asks for, and it is
 * released when the process ends the slice or ends. The caller refreshes its object store afterwards.
 */
export function collectGarbageInProcess(options: CaptureProcessOptions, request: GcRequest, underLock: UnderLock, logger?: Logger): Promise<GcResult> {
  return inProcess(options, { type: 'gc', request }, { logger, underLock }, 'cleaning up the store', 'Nothing was removed.') as Promise<GcResult>;
}

async function inProcess(
  options: CaptureProcessOptions,
  work: Work,
  hooks: { readonly logger?: Logger; readonly signal?: AbortSignal; readonly onProgress?: (files: number) => void; readonly underLock?: UnderLock },
  doing: string,
  outcome: string,
): Promise<CapturedElsewhere | GcResult> {
  const logger = hooks.logger ?? silentLogger;
  hooks.signal?.throwIfAborted();
  // loaded when used: the command-line tool's commands (all but its MCP server) start no such process
  // and would pay for it at every start (#14); a require, not an import(): the tool's launcher runs its
  // bundle in a vm.Script, which has no module loader
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fork } = require('node:child_process') as typeof import('node:child_process');
  return new Promise<CapturedElsewhere | GcResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = fork(options.script, [], {
        execArgv: [...(options.execArgv ?? [])],
        // an editor's own executable runs scripts as Node only with this set (VS Code's language clients set it too)
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
    } catch (error) {
      reject(StateError.snapshotCreation(`Could not start the process ${doing}: ${error instanceof Error ? error.message : String(error)}`, error));
      return;
    }
    let answer: FromChild | undefined;
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < 4000) stderr += chunk;
    });
    const onAbort = () => {
      child.send({ type: 'abort' } satisfies FromParent, () => undefined);
      killTimer = setTimeout(() => child.kill('SIGKILL'), ABORT_GRACE_MS);
    };
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    /** Ends the slice of the lock held for the process (when it says so, or ends). */
    let releaseLock: (() => void) | undefined;
    const holdLock = () => {
      const underLock = hooks.underLock;
      if (!underLock) {
        child.send({ type: 'lock-failed', message: 'No store lock was offered to this process.' } satisfies FromParent, () => undefined);
        return;
      }
      underLock(
        (roots) =>
          new Promise<void>((release) => {
            if (child.exitCode !== null || child.signalCode !== null) return release();
            releaseLock = release;
            child.send({ type: 'locked', roots } satisfies FromParent, (error) => {
              if (error) release();
            });
          }),
      ).catch((error: unknown) => {
        const kind = error instanceof StateError ? error.kind : undefined;
        child.send({ type: 'lock-failed', kind, message: error instanceof Error ? error.message : String(error) } satisfies FromParent, () => undefined);
      });
    };
    child.on('message', (message: FromChild) => {
      if (message.type === 'progress') hooks.onProgress?.(message.files);
      else if (message.type === 'log') logger[message.level](message.message);
      else if (message.type === 'lock') holdLock();
      else if (message.type === 'unlock') {
        releaseLock?.();
        releaseLock = undefined;
      } else answer = message;
    });
    let settled = false;
    const finish = (error: unknown, result?: CapturedElsewhere | GcResult) => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (error === undefined) resolve(result!);
      else reject(error);
    };
    child.on('error', (error) => {
      finish(StateError.snapshotCreation(`The process ${doing} failed: ${error.message}`, error));
      child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      releaseLock?.();
      releaseLock = undefined;
      // cancelled before the answer came: no point, even if the capture finished (its pack is left to the clean-up)
      if (hooks.signal?.aborted) return finish(hooks.signal.reason);
      const conclude = () => {
        if (answer?.type === 'done') return finish(undefined, answer.result);
        if (answer?.type === 'failed') return finish(new StateError(answer.kind ?? 'SnapshotCreationError', answer.message));
        const how = signal ? `it was stopped by ${signal}` : `exit code ${code}`;
        const said = stderr.trim().split('\n').pop();
        finish(StateError.snapshotCreation(`The process ${doing} ended before it finished (${how})${said ? `: ${said}` : ''}. ${outcome}`));
      };
      // a process that ended well may have its answer still on the way ('exit' can come before the last
      // message, seen once on a loaded machine): it is waited for until the channel closes, 2 s at most
      if (answer === undefined && code === 0 && !signal) {
        child.once('close', conclude);
        setTimeout(conclude, 2000).unref();
        return;
      }
      conclude();
    });
    child.send(work satisfies FromParent, (error) => {
      if (error) finish(StateError.snapshotCreation(`Could not start the process ${doing}: ${error.message}`, error));
    });
  });
}

/**
 * The capture process's side: answers one request on the IPC channel, then lets the process end.
 * Call it from the script `CaptureProcessOptions.script` names.
 */
export function serveCaptureRequests(): void {
  const send = (message: FromChild) => process.send?.(message);
  const controller = new AbortController();
  const logger: Logger = {
    debug: (message) => send({ type: 'log', level: 'debug', message }),
    info: (message) => send({ type: 'log', level: 'info', message }),
    warn: (message) => send({ type: 'log', level: 'warn', message }),
    error: (message) => send({ type: 'log', level: 'error', message }),
  };
  const startRss = process.memoryUsage().rss;
  let started = false;
  /** The slice of the lock asked for and not given yet. */
  let lockWanted: { resolve: (roots: readonly string[]) => void; reject: (error: Error) => void } | undefined;
  const underLock: UnderLock = async (work) => {
    const roots = await new Promise<readonly string[]>((resolve, reject) => {
      if (controller.signal.aborted) return reject(controller.signal.reason as Error);
      lockWanted = { resolve, reject };
      send({ type: 'lock' });
    });
    try {
      return await work(roots);
    } finally {
      send({ type: 'unlock' });
    }
  };
  // listens (so an abort can arrive) until the answer is sent
  process.on('message', (message: FromParent) => {
    if (message.type === 'abort') {
      controller.abort(new Error('The capture was cancelled.'));
      return;
    }
    if (message.type === 'locked' || message.type === 'lock-failed') {
      const wanted = lockWanted;
      lockWanted = undefined;
      if (message.type === 'locked') wanted?.resolve(message.roots);
      else wanted?.reject(new StateError(message.kind ?? 'IoError', message.message));
      return;
    }
    if (started) return; // one request per process
    started = true;
    const done = message.type === 'capture' ? capturedHere(message.request, logger, controller.signal, (files) => send({ type: 'progress', files })) : collectedHere(message.request, underLock);
    done.then(
      (result) => {
        const peak = process.resourceUsage().maxRSS * 1024;
        logger.info(`The ${message.type === 'capture' ? 'capture' : 'clean-up'} process used at most ${formatBytes(peak)} of memory (${formatBytes(peak - startRss)} above its start); all of it is freed as it ends.`);
        send({ type: 'done', result });
      },
      (error: unknown) =>
        send({
          type: 'failed',
          kind: error instanceof StateError ? error.kind : undefined,
          message: error instanceof Error ? error.message : String(error),
          aborted: controller.signal.aborted,
        }),
    ).finally(() => process.disconnect?.());
  });
  process.on('disconnect', () => {
    const gone = new Error('The process that asked for the capture is gone.');
    controller.abort(gone);
    lockWanted?.reject(gone);
    lockWanted = undefined;
  });
}

async function capturedHere(request: CaptureRequest, logger: Logger, signal: AbortSignal, onProgress: (files: number) => void): Promise<CapturedElsewhere> {
  const objects = await ObjectStore.open(request.objectsDir);
  const cache = await CaptureCache.load(request.cacheFile, logger);
  const batch = objects.beginBatch();
  try {
    const captured = await captureWorkspace({ roots: request.roots, rules: request.rules, neverCapture: request.neverCapture, objects: batch, cache, logger, signal, onProgress });
    if (request.skipIfEmpty && captured.fileCount === 0) {
      await batch.abort();
      return { captured, counts: { added: 0, modified: 0, deleted: 0 }, rootFolders: [], addedBytes: 0 };
    }
    const counts = await countChanges(batch, null, captured.root);
    const rootFolders = (await batch.readTree(captured.root)).e.filter((e) => e[1] === 'd').map((e) => e[0]);
    await batch.commit();
    await cache.save();
    return { captured, counts, rootFolders, addedBytes: batch.addedBytes };
  } catch (error) {
    await batch.abort();
    throw error;
  } finally {
    await objects.close();
  }
}

async function collectedHere(request: GcRequest, underLock: UnderLock): Promise<GcResult> {
  const objects = await ObjectStore.open(request.objectsDir);
  try {
    const result = await collectInSlices(objects, request, underLock, { repack: request.repack });
    const oldest = request.roots.at(-1);
    // a cache: when it cannot be written here, the caller's change index builds it as before
    if (request.changeIndexFile && oldest !== undefined) await ChangeIndex.writeOldestPair(request.changeIndexFile, objects, oldest).catch(() => false);
    return result;
  } finally {
    await objects.close();
  }
}
