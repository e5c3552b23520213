/**
 * The shadow-git approach of AI agents' checkpoints (Cline, Roo Code): a separate git folder whose
 * work tree is the workspace. Configured as those tools do it — `git init`, user name and email,
 * gpg signing off — plus core.autocrlf=false so git stores the same bytes we do. The user's global
 * and system git configuration are ignored so a run does not depend on them. Every command is a new
 * `git` process, as it is for those tools.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, sleep, type RunResult } from './proc';
import type { RunnerElsewhere } from './runnerElsewhere';

/** The commit of a checkpoint, as shadow-git tools make it. */
function checkpointCommit(message: string): string[] {
  return ['commit', '-q', '--no-verify', '--allow-empty', '-m', message];
}
const ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };

export class ShadowGit {
  /** Automatic `git gc` runs seen (git starts them in the background after a commit). */
  autoGcRuns = 0;
  autoGcWaitMs = 0;

  constructor(
    readonly gitDir: string,
    readonly workTree: string,
  ) {}

  /** A new shadow repository of `workTree` with its first checkpoint made and git's automatic gc after it waited for. */
  static async withFirstCheckpoint(gitDir: string, workTree: string): Promise<ShadowGit> {
    const sg = new ShadowGit(gitDir, workTree);
    sg.init();
    sg.checkpoint('Checkpoint 1');
    await sg.waitForAutoGc();
    return sg;
  }

  git(args: readonly string[], options: { measureRss?: boolean; allowFail?: boolean; input?: string } = {}): RunResult {
    return run('git', this.argsFor(args), { cwd: this.workTree, env: ENV, ...options });
  }

  private argsFor(args: readonly string[]): string[] {
    return [`--git-dir=${this.gitDir}`, `--work-tree=${this.workTree}`, ...args];
  }

  init(): void {
    fs.rmSync(this.gitDir, { recursive: true, force: true });
    run('git', [`--git-dir=${this.gitDir}`, 'init', '-q'], { env: ENV });
    for (const [key, value] of [
      ['core.bare', 'false'],
      ['core.worktree', this.workTree],
      ['core.autocrlf', 'false'],
      ['commit.gpgSign', 'false'],
      ['user.name', 'Checkpoint Bench'],
      ['user.email', 'checkpoints@example.com'],
    ] as const) {
      run('git', [`--git-dir=${this.gitDir}`, 'config', key, value], { env: ENV });
    }
  }

  /** `git add -A` then `git commit`: one checkpoint. Returns the time of both and git's peak RSS. */
  checkpoint(message: string, measureRss = false): { ms: number; addMs: number; commitMs: number; maxRssBytes?: number } {
    const add = this.git(['add', '-A'], { measureRss });
    const commit = this.git(checkpointCommit(message), { measureRss });
    const rss = measureRss ? Math.max(add.maxRssBytes ?? 0, commit.maxRssBytes ?? 0) : undefined;
    return { ms: add.ms + commit.ms, addMs: add.ms, commitMs: commit.ms, maxRssBytes: rss };
  }

  /** `checkpoint`, with git started by another process (`RunnerElsewhere`): this one is not forked. */
  async checkpointElsewhere(runner: RunnerElsewhere, message: string): Promise<number> {
    const options = { cwd: this.workTree, env: ENV };
    const add = await runner.run('git', this.argsFor(['add', '-A']), options);
    const commit = await runner.run('git', this.argsFor(checkpointCommit(message)), options);
    return add.ms + commit.ms;
  }

  head(): string {
    return this.git(['rev-parse', 'HEAD']).stdout.trim();
  }

  /** Number of files the last commit holds (to check both tools captured the same files). */
  trackedFiles(): number {
    return this.git(['ls-tree', '-r', '--name-only', 'HEAD']).stdout.split('\n').filter(Boolean).length;
  }

  /**
   * Waits until a background `git gc --auto` (started by the commit) has finished, so it does not
   * compete with the next measurement. The detached gc drops its gc.pid while it daemonizes, so when
   * git's own trigger (more than gc.auto=6,700 loose objects, estimated from objects/17, or more than
   * 50 packs) says a gc is due, we give it a moment to appear. Returns whether one ran.
   */
  async waitForAutoGc(timeoutMs = 15 * 60_000): Promise<boolean> {
    const pidFile = path.join(this.gitDir, 'gc.pid');
    const started = performance.now();
    let seen = fs.existsSync(pidFile);
    if (!seen && this.gcDue()) {
      while (!fs.existsSync(pidFile) && performance.now() - started < 1500) await sleep(10);
      seen = fs.existsSync(pidFile);
    }
    if (!seen) return false;
    this.autoGcRuns++;
    while (fs.existsSync(pidFile) && performance.now() - started < timeoutMs) await sleep(50);
    this.autoGcWaitMs += performance.now() - started;
    return true;
  }

  private gcDue(): boolean {
    const count = (dir: string, suffix = ''): number => {
      try {
        return fs.readdirSync(dir).filter((n) => n.endsWith(suffix)).length;
      } catch {
        return 0;
      }
    };
    return count(path.join(this.gitDir, 'objects', '17')) > Math.ceil(6700 / 256) || count(path.join(this.gitDir, 'objects', 'pack'), '.pack') > 50;
  }
}
