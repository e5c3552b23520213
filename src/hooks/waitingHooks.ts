import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import * as z from 'zod';
import { isSecretPath, type SavedContent } from '../core/capture';
import { errorCode } from '../core/errors';
import { isProcessAlive } from '../core/lock/lockOwner';
import { randomHex } from '../core/randomHex';
import { notAStoreFolder, StoreLayout } from '../core/storeLayout';
import { startToolDetached } from '../cli/detachedTool';
import { continuedEventText, MAX_FILES, readContinuedEvent } from './continuedHook';
import type { HookEvent } from './hookEvent';

/**
 * A hook whose budget ran out while another process held the store (the editor making a long first
 * point of a big repository, a clean-up) would make no point, and the version of a file the agent's
 * action met would be in none. It leaves its event instead in the store's `waiting-hooks` folder, with
 * the bytes of the files an edit names as they are now, and one detached process per store, the
 * waiter (`hook --waiting`), waits for the store and makes the points they asked for, oldest first:
 * the first hook to give up starts it, the others find it running and leave their event to it. A
 * waiter gives up in turn when the store stays busy past its budget: the next user of the store (a
 * hook, the tool, the editor) starts another once the store is free (`resumeWaitingHooks`).
 */
export const WAITING_OPTION = '--waiting';

/** A waiting hook's file: a JSON header line, then the kept files' bytes one after another. */
const ENTRY_SUFFIX = '.hook';
/** The waiter's claim: its pid, or 0 while the hook that started it waits for it to take over. */
const WAITER_FILE = 'waiter';
/** A claim of 0 older than this is a waiter that never started: taken over. */
const STARTING_MS = 30_000;
/** The bytes of the edited files a waiting hook keeps, at most (larger files are read when the point is made). */
const MAX_KEPT_BYTES = 8 * 1024 * 1024;
/** A waiting hook this old is dropped unread: its point would say nothing true of its time. */
const MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** A hook that waits for its point: its event, the workspace folder and the files it kept, by the names the event gives them. */
export interface WaitingHook {
  readonly event: HookEvent;
  readonly folder: string;
  readonly kept: ReadonlyMap<string, SavedContent>;
}

const entryHeaderSchema = z.object({
  event: z.string().max(1024 * 1024),
  folder: z.string().min(1).max(4096),
  files: z.array(z.object({ name: z.string().min(1).max(4096), mode: z.number().int().min(0).max(0o7777), size: z.number().int().nonnegative().max(MAX_KEPT_BYTES) })).max(MAX_FILES),
});
type EntryHeader = z.infer<typeof entryHeaderSchema>;

function waitingDir(storeDir: string): string {
  return new StoreLayout(storeDir).waitingHooksDir;
}

/**
 * Leaves `event`'s point to the store's waiter, starting one when none runs. Returns false when the
 * event could not be written (the caller's hook makes no point, as before). Never throws.
 */
export function leaveToWaiter(storeDir: string, folder: string, event: HookEvent): boolean {
  if (!writeWaitingHook(storeDir, folder, event)) return false;
  // after the event is written: a waiter that ends looks for events again after it lets go of its claim
  if (waiterRuns(waitingDir(storeDir))) return true;
  return startWaiter(storeDir, startToolDetached);
}

/** Writes `event` in the store's `waiting-hooks` folder, with the edited files as they are now; false when it could not be. */
export function writeWaitingHook(storeDir: string, folder: string, event: HookEvent): boolean {
  const dir = waitingDir(storeDir);
  // never into a folder that is not a store (a mistyped --store): the event would make it one
  if (!fs.statSync(storeDir, { throwIfNoEntry: false })?.isDirectory() || notAStoreFolder(storeDir) !== undefined) return false;
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') return false;
  }
  try {
    const files = keptFiles(event, folder);
    const header: EntryHeader = { event: continuedEventText(event), folder, files: files.map((f) => ({ name: f.name, mode: f.mode, size: f.content.length })) };
    const name = `${String(Date.now()).padStart(15, '0')}-${process.pid}-${randomHex(4)}${ENTRY_SUFFIX}`;
    writeFileAtomic.sync(path.join(dir, name), Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ...files.map((f) => f.content)]), { mode: 0o600 });
  } catch {
    return false;
  }
  return true;
}

/** How a waiter is started: this tool again, detached, with these arguments (false when it could not be). */
export type StartTool = (args: readonly string[]) => boolean;

/**
 * Starts the store's waiter when hooks wait in the store and none runs: a waiter gives up when the
 * store stays busy past its budget (the editor's first point of a big repository), or was killed, and
 * their points would wait for the next hook that gives up. Every user of the store calls this once it
 * is free again (a hook after its point, the tool after a point, the editor after its own): the waiter
 * makes them, oldest first. Returns whether it started one (or found one just claimed); never throws.
 */
export function resumeWaitingHooks(storeDir: string, start: StartTool = startToolDetached): boolean {
  const dir = waitingDir(storeDir);
  try {
    if (entries(dir).length === 0 || waiterRuns(dir)) return false;
    return startWaiter(storeDir, start);
  } catch {
    return false;
  }
}

/** Claims the waiter's place for a waiter about to start and starts it; true when one runs after (this one, or one that claimed it first). */
function startWaiter(storeDir: string, start: StartTool): boolean {
  const dir = waitingDir(storeDir);
  if (!claim(dir, 0)) return true;
  if (start(['hook', WAITING_OPTION, '--store', storeDir])) return true;
  fs.rmSync(path.join(dir, WAITER_FILE), { force: true });
  return false;
}

/**
 * The files an edit names, as they are now (the agent's action waits for the hook), up to
 * `MAX_KEPT_BYTES` in all; never one the secret rules leave out of points (`.env`): the point reads
 * those when it is made, by the store's rules, and their bytes are not written anywhere meanwhile.
 */
function keptFiles(event: HookEvent, folder: string): Array<{ name: string; mode: number; content: Buffer }> {
  const action = event.action;
  if (action.kind !== 'before-edit' && action.kind !== 'after-edit') return [];
  const kept: Array<{ name: string; mode: number; content: Buffer }> = [];
  let total = 0;
  // the names `continuedEventText` keeps
  for (const name of action.files.slice(0, MAX_FILES)) {
    const file = path.resolve(event.cwd ?? folder, name);
    const rel = path.relative(folder, file);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) || isSecretPath(rel.split(path.sep).join('/'))) continue;
    try {
      const stat = fs.lstatSync(file);
      if (!stat.isFile() || total + stat.size > MAX_KEPT_BYTES) continue;
      const content = fs.readFileSync(file);
      total += content.length;
      kept.push({ name, mode: stat.mode & 0o777, content });
    } catch {
      // gone or unreadable: the point reads it when it is made
    }
  }
  return kept;
}

/** Whether a waiter holds the claim: a live pid, or one starting. */
function waiterRuns(dir: string): boolean {
  const file = path.join(dir, WAITER_FILE);
  let text: string;
  let stat: fs.Stats;
  try {
    text = fs.readFileSync(file, 'utf8');
    stat = fs.statSync(file);
  } catch {
    return false;
  }
  const pid = Number(text.trim());
  if (Number.isInteger(pid) && pid > 0) return isProcessAlive(pid);
  return Date.now() - stat.mtimeMs < STARTING_MS;
}

/** Takes the waiter's claim for `pid` (0: a waiter about to start); one left by a waiter that is gone is taken over. */
function claim(dir: string, pid: number): boolean {
  const file = path.join(dir, WAITER_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(pid), { flag: 'wx', mode: 0o600 });
      return true;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST' || waiterRuns(dir)) return false;
      fs.rmSync(file, { force: true });
    }
  }
  return false;
}

/** What the waiter's work on one hook came to: `busy`, the store is still held (the hook waits for the next waiter). */
export type WaitedPoint = 'done' | 'busy';

/**
 * `hook --waiting`: the store's waiter. Makes the point of each waiting hook, oldest first, with
 * `make`, until none is left or the store stays busy; then lets go of its claim.
 */
export async function serveWaitingHooks(storeDir: string, make: (hook: WaitingHook) => Promise<WaitedPoint>): Promise<void> {
  const dir = waitingDir(storeDir);
  // the claim the starting hook took for this process
  fs.writeFileSync(path.join(dir, WAITER_FILE), String(process.pid), { mode: 0o600 });
  for (;;) {
    let busy = false;
    for (let names = entries(dir); names.length > 0 && !busy; names = entries(dir)) {
      for (const name of names) {
        const file = path.join(dir, name);
        const hook = readEntry(file);
        if (hook && (await make(hook)) === 'busy') {
          busy = true;
          break;
        }
        fs.rmSync(file, { force: true });
      }
    }
    fs.rmSync(path.join(dir, WAITER_FILE), { force: true });
    // a hook that found the claim before it went left its event: taken now, unless a new waiter has it
    if (busy || entries(dir).length === 0 || !claim(dir, process.pid)) return;
  }
}

/** The waiting hooks' files, oldest first; those too old to be true are removed. */
function entries(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith(ENTRY_SUFFIX) && !name.startsWith('.')).sort();
  } catch {
    return [];
  }
  return names.filter((name) => {
    if (Date.now() - Number(name.split('-')[0]) <= MAX_AGE_MS) return true;
    fs.rmSync(path.join(dir, name), { force: true });
    return false;
  });
}

/** A waiting hook's file, or `undefined` when it is not one (it is removed unread). */
function readEntry(file: string): WaitingHook | undefined {
  try {
    const bytes = fs.readFileSync(file);
    const end = bytes.indexOf(0x0a);
    if (end === -1) return undefined;
    const header: EntryHeader = entryHeaderSchema.parse(JSON.parse(bytes.subarray(0, end).toString('utf8')));
    const kept = new Map<string, SavedContent>();
    let at = end + 1;
    for (const f of header.files) {
      kept.set(f.name, { content: bytes.subarray(at, at + f.size), mode: f.mode });
      at += f.size;
    }
    if (at !== bytes.length) return undefined;
    return { event: readContinuedEvent(header.event), folder: header.folder, kept };
  } catch {
    return undefined;
  }
}
