import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GitHead, WorkspaceRoot } from '../schemas';

const BRANCH_REF = /^ref: refs\/heads\/(\S{1,1000})$/;
const COMMIT = /^[0-9a-f]{40,64}$/;
const GIT_FILE = /^gitdir: (.+)$/;

/**
 * The branch (or detached commit) checked out in the repository holding `folder`: `.git/HEAD`, or the
 * HEAD of the folder a `.git` file points to (a worktree, a submodule). Read only and synchronous (a
 * point reads it on its way: one `stat` a folder up to the repository, one small read): git is never
 * run and nothing is written. `undefined` when there is no repository or its HEAD cannot be read.
 */
export function readGitHead(folder: string): GitHead | undefined {
  const gitDir = gitDirOf(folder);
  return gitDir === undefined ? undefined : readHead(path.join(gitDir, 'HEAD'));
}

/** The git folder of the repository holding `folder` (`.git`, or where a `.git` file points), or nothing. */
function gitDirOf(folder: string): string | undefined {
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, '.git');
    const stat = statOrNothing(dotGit);
    if (stat?.isDirectory()) return dotGit;
    if (stat?.isFile()) {
      const gitDir = GIT_FILE.exec(readOrNothing(dotGit)?.trim() ?? '');
      return gitDir ? path.resolve(dir, gitDir[1]!.trim()) : undefined;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** A line of HEAD's reflog: old and new commit, who, when (seconds), zone, then the command's message. */
const REFLOG_LINE = /^[0-9a-f]{40,64} [0-9a-f]{40,64} [^\t]* (\d{1,12}) [+-]\d{4}\t(.*)$/;
/** How much of the reflog's end is read: its newest entries. */
const REFLOG_TAIL_BYTES = 16 * 1024;

/**
 * The git commands that changed the files of the workspace folders' repositories since `sinceMs`, as
 * people would type them, oldest first: "git pull", "git merge feature", "git reset to HEAD~1",
 * "git rebase of topic", "git cherry-pick of "Fix the parser"", "git revert of "…"", read from the end of HEAD's reflog (git
 * writes it for every command that moves HEAD; never run, nothing written). Commits (which change no
 * file) and checkouts (named as a branch switch) are left out. "git stash pop", which moves no HEAD,
 * is told by the stash's log: rewritten without its newest entry, or deleted with the last stash.
 */
export function readGitActions(roots: readonly WorkspaceRoot[], sinceMs: number): string[] {
  const actions: string[] = [];
  // whole seconds: a command in the second the point before was made is taken as before it (a
  // point of changes on disk comes a second or more after the command that made them)
  const since = (log: string) =>
    readTail(log, REFLOG_TAIL_BYTES)
      .split('\n')
      .flatMap((line) => {
        const entry = REFLOG_LINE.exec(line);
        return entry && Number(entry[1]) * 1000 >= sinceMs ? [{ at: Number(entry[1]) * 1000, message: entry[2]! }] : [];
      });
  for (const gitDir of new Set(roots.map((root) => gitDirOf(root.path)).filter((dir): dir is string => dir !== undefined))) {
    // `git stash` (and `merge --abort`) write "reset: moving to HEAD", which no person typed: a stash is told by its own log
    const stashLog = path.join(gitDir, 'logs', 'refs', 'stash');
    const stashed = since(stashLog).length > 0;
    const popped = stashed ? undefined : stashPoppedAt(stashLog, sinceMs);
    const entries = since(path.join(gitDir, 'logs', 'HEAD'));
    // in its place among HEAD's commands, by time (whole seconds: after those of its second)
    if (popped !== undefined) entries.splice(entries.filter((e) => e.at <= popped).length, 0, { at: popped, message: 'stash pop' });
    for (const { message } of entries) {
      const action = message === 'reset: moving to HEAD' ? (stashed ? 'git stash' : undefined) : message === 'stash pop' ? 'git stash pop' : gitAction(message);
      if (!action || actions.at(-1) === action) continue;
      // a rebase's steps are one command: named by its end when it has one
      if (action.startsWith('git rebase') && actions.at(-1)?.startsWith('git rebase')) actions[actions.length - 1] = action;
      else actions.push(action);
    }
  }
  return actions;
}

/**
 * When a stash was taken back (`git stash pop`, which moves no HEAD) after `sinceMs`, when none was
 * made since: git rewrote the stash's log without its newest entry (stashes are left), or deleted it
 * with the last stash (the folder of ref logs changed, and nothing in it was written since). Not `git
 * stash apply`, which leaves the stash and its log as they were. `undefined` when none was.
 */
function stashPoppedAt(stashLog: string, sinceMs: number): number | undefined {
  const log = statOrNothing(stashLog);
  if (log) return log.mtimeMs > sinceMs ? log.mtimeMs : undefined;
  const logs = path.dirname(stashLog);
  const folder = statOrNothing(logs);
  if (!folder || folder.mtimeMs <= sinceMs) return undefined;
  // a log made since in that folder (the first fetch of a remote) changed it, not a stash taken back
  const entries = (() => {
    try {
      return fs.readdirSync(logs);
    } catch {
      return undefined;
    }
  })();
  if (!entries || entries.some((name) => (statOrNothing(path.join(logs, name))?.mtimeMs ?? Infinity) > sinceMs)) return undefined;
  return folder.mtimeMs;
}

/** A reflog message as the command people ran: `undefined` for commits, checkouts and what is not known. */
function gitAction(message: string): string | undefined {
  const [verb = '', rest = ''] = message.split(/: (.*)/s);
  const short = (text: string) => (text.length > 40 ? `${text.slice(0, 39)}\u2026` : text);
  if (verb.startsWith('pull')) return 'git pull';
  if (verb.startsWith('merge ')) return `git merge ${short(verb.slice('merge '.length))}`;
  if (verb === 'commit (merge)') return 'git merge';
  if (verb === 'reset') return `git reset${rest.startsWith('moving to ') ? ` to ${short(rest.slice('moving to '.length))}` : ''}`;
  if (verb.startsWith('rebase')) {
    const finished = /^returning to refs\/heads\/(.+)$/.exec(rest);
    return finished ? `git rebase of ${short(finished[1]!)}` : 'git rebase';
  }
  // the commit by its subject: the reflog does not hold the hash people typed
  if (verb.startsWith('cherry-pick')) return rest ? `git cherry-pick of "${short(rest)}"` : 'git cherry-pick';
  if (verb.startsWith('revert')) {
    const subject = /^Revert "(.*)"$/s.exec(rest)?.[1] ?? rest;
    return subject ? `git revert of "${short(subject)}"` : 'git revert';
  }
  return undefined;
}

/** The workspace folders as a point records them: each with the HEAD of its repository, when it has one. */
export function withGitHeads(roots: readonly WorkspaceRoot[]): WorkspaceRoot[] {
  return roots.map((root) => {
    const { head: _old, ...rest } = root;
    const head = readGitHead(root.path);
    return head ? { ...rest, head } : rest;
  });
}

/**
 * The first workspace folder whose HEAD differs between two points of the same folders (`before`, the
 * point before `after`): a branch switched or a commit checked out between them. `undefined` when the
 * folders are not the same ones or either point does not know its HEAD (no repository, an older store).
 */
export function switchedHead(before: readonly WorkspaceRoot[], after: readonly WorkspaceRoot[]): { readonly before: GitHead; readonly after: GitHead } | undefined {
  if (before.length !== after.length) return undefined;
  for (let i = 0; i < after.length; i++) {
    const [a, b] = [before[i]!, after[i]!];
    if (a.path !== b.path || !a.head || !b.head) continue;
    if (headText(a.head) !== headText(b.head)) return { before: a.head, after: b.head };
  }
  return undefined;
}

/** A workspace folder whose repository is on another branch (or commit) than when a point was made. */
export interface MovedHead {
  /** The workspace folder's name. */
  readonly folder: string;
  readonly then: GitHead;
  readonly now: GitHead;
}

/**
 * The workspace folders (`pairs`: a point's folder and the workspace folder that stands for it) whose
 * repository's HEAD is not the one the point recorded: a restore of the point changes their files,
 * not their branch. Empty when the point recorded none (no repository, an older store).
 */
export function headsMovedSince(pointRoots: readonly WorkspaceRoot[], pairs: ReadonlyArray<{ readonly point: string; readonly workspace: string }>, workspace: readonly WorkspaceRoot[]): MovedHead[] {
  const moved: MovedHead[] = [];
  for (const pair of pairs) {
    const then = pointRoots.find((r) => r.name === pair.point)?.head;
    const folder = workspace.find((r) => r.name === pair.workspace);
    const now = then && folder ? readGitHead(folder.path) : undefined;
    if (then && now && headText(then) !== headText(now)) moved.push({ folder: pair.workspace, then, now });
  }
  return moved;
}

function headText(head: GitHead): string {
  return 'branch' in head ? `ref: ${head.branch}` : head.commit;
}

function readHead(file: string): GitHead | undefined {
  const text = readOrNothing(file)?.trim();
  if (text === undefined) return undefined;
  const branch = BRANCH_REF.exec(text);
  if (branch) return { branch: branch[1]! };
  return COMMIT.test(text) ? { commit: text } : undefined;
}

function statOrNothing(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** The file's last `bytes` bytes from the start of a line, or nothing. */
function readTail(file: string, bytes: number): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return '';
    const start = Math.max(0, stat.size - bytes);
    const buffer = Buffer.alloc(Math.min(bytes, stat.size));
    const text = buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, buffer.length, start));
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The file's first 4 kB (a HEAD or a `.git` file is one short line), or nothing; never waits on a pipe or a device of that name. */
function readOrNothing(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    if (!fs.fstatSync(fd).isFile()) return undefined;
    const buffer = Buffer.alloc(4096);
    return buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, buffer.length, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
