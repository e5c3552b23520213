/**
 * `--cli-only`: the command-line tool's cold start alone (#14 target 2), on one synthetic workspace:
 * whole processes of `node -e 0` (Node's own start), `snapshot --changed FILE`, `hook` (a Claude Code
 * PostToolUse Edit payload, as row 2c runs it; and as row 2d, through the resident helper), `list`, `show latest` and `diff latest`,
 * and `snapshot`, `list`, `show` and `diff` again through `dist/recovery-points` with the helper running, wall and CPU time
 * (user + system of the child, from /usr/bin/time), against git's `add -A && commit`, `log`, `diff-tree` and `diff HEAD` in
 * the same rounds. `--against <commit>` also builds that commit's tool (its own scripts/build.mjs) and
 * runs it on a copy of the workspace and store, taking turns. Each tool keeps its V8 code cache in a
 * cache folder of this run, warmed by an untimed run of each command.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ShadowGit } from './git';
import { startBenchHelper, type BenchHelper } from './hookHelper';
import { run, settleDisk, TIME_BIN } from './proc';
import { extractCommit } from './restoreOnly';
import { createSynthetic, editIn, type Workspace } from './workspace';

export interface ProcessSample {
  readonly ms: number;
  /** User + system CPU of the child; `NaN` without /usr/bin/time. */
  readonly cpuMs: number;
}

export const CLI_COMMANDS = ['node -e 0', 'snapshot --changed', 'snapshot --changed via helper', 'hook', 'hook via helper', 'list', 'list via helper', 'show', 'show via helper', 'diff', 'diff via helper'] as const;
export type CliCommand = (typeof CLI_COMMANDS)[number];

/** The commands run through the resident helper: `dist/hook-client.sh` for the hook, `dist/recovery-points` for the others. */
export const viaHelper = (command: CliCommand): boolean => command.endsWith(' via helper');

export interface CliOnlyResult {
  readonly ws: Workspace;
  /** Per command, per side ('ours', 'old', 'git'): the samples. */
  readonly samples: Record<CliCommand, Record<string, ProcessSample[]>>;
}

/** Runs `cmd` as a whole process, with its wall time and (under /usr/bin/time) its CPU time. */
function measure(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): ProcessSample {
  if (!TIME_BIN) return { ms: run(cmd, args, options).ms, cpuMs: Number.NaN };
  const file = path.join(fs.mkdtempSync('/tmp/bench-cli-'), 'time.txt');
  const r = run(TIME_BIN, ['-f', '%U %S', '-o', file, cmd, ...args], options);
  const [user, system] = fs.readFileSync(file, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  if (r.stderr.trim()) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return { ms: r.ms, cpuMs: (user! + system!) * 1000 };
}

/** That commit's `dist/cli.js`, built by its own build script with this checkout's node_modules. */
function buildCommit(repo: string, commit: string, into: string): string {
  extractCommit(repo, commit, into);
  const archive = path.join(into, 'rest.tar');
  execFileSync('git', ['-C', repo, 'archive', '-o', archive, commit, 'scripts', 'package.json']);
  execFileSync('tar', ['-xf', archive, '-C', into]);
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(into, 'node_modules'));
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: into, stdio: 'ignore' });
  return path.join(into, 'dist', 'cli.js');
}

export async function cliOnly(options: { tmp: string; files: number; seed: string; rounds: number; iterations: number; against?: string; repo: string; log: (message: string) => void }): Promise<CliOnlyResult> {
  const { tmp, files, rounds, iterations, log } = options;
  const ws = createSynthetic(tmp, files, options.seed);
  const sides: Array<{ side: string; cli: string; root: string; store: string }> = [{ side: 'ours', cli: path.join(options.repo, 'dist', 'cli.js'), root: ws.ours, store: path.join(tmp, 'cli-store-ours') }];
  if (options.against) {
    const root = path.join(tmp, `synthetic-${files}-old`);
    execFileSync('cp', ['-a', ws.ours, root]);
    sides.push({ side: 'old', cli: buildCommit(options.repo, options.against, path.join(tmp, 'against-cli')), root, store: path.join(tmp, 'cli-store-old') });
  }
  const env = { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cli-cache') };
  const sg = await ShadowGit.withFirstCheckpoint(path.join(tmp, 'cli-shadow.git'), ws.git);
  let n = 0;
  const edit = (roots: string[]) => editIn(roots, ws.editable[n++ % ws.editable.length]!, `cli-only-${n}`);
  const helpers = new Map<string, BenchHelper>();
  for (const s of sides) {
    const helper = await startBenchHelper(s.cli, path.join(tmp, `hook-helper-${s.side}`), env);
    if (helper) helpers.set(s.side, helper);
  }
  const hookPayload = (s: (typeof sides)[number]) => {
    const file = edit([s.root]);
    return JSON.stringify({ session_id: 'bench', transcript_path: '/dev/null', cwd: s.root, hook_event_name: 'PostToolUse', tool_name: 'Edit', tool_input: { file_path: file }, tool_use_id: `toolu_${n}` });
  };
  // `dist/recovery-points` as a shell runs it; the Node it names does not exist, so a command the helper did not run fails the benchmark
  const launched = (s: (typeof sides)[number], args: string[]) => measure(helpers.get(s.side)!.launcher!, args, { env: { ...helpers.get(s.side)!.env, RECOVERY_POINTS_NODE: '/nonexistent/node' } });
  const commands: Record<CliCommand, (s: (typeof sides)[number]) => ProcessSample> = {
    'node -e 0': () => measure(process.execPath, ['-e', '0'], { env }),
    'snapshot --changed': (s) => measure(process.execPath, [s.cli, 'snapshot', '--workspace', s.root, '--store', s.store, '--changed', edit([s.root])], { env }),
    hook: (s) => measure(process.execPath, [s.cli, 'hook', '--agent', 'claude', '--store', s.store, '--workspace', s.root, '--budget', '60000'], { env, input: hookPayload(s) }),
    'hook via helper': (s) => {
      const helper = helpers.get(s.side)!;
      const [program, args] = helper.command;
      return measure(program, [...args, 'hook', '--agent', 'claude', '--store', s.store, '--workspace', s.root, '--budget', '60000'], { env: helper.env, input: hookPayload(s) });
    },
    'snapshot --changed via helper': (s) => launched(s, ['snapshot', '--workspace', s.root, '--store', s.store, '--changed', edit([s.root])]),
    list: (s) => measure(process.execPath, [s.cli, 'list', '--workspace', s.root, '--store', s.store], { env }),
    'list via helper': (s) => launched(s, ['list', '--workspace', s.root, '--store', s.store]),
    'show via helper': (s) => launched(s, ['show', 'latest', '--workspace', s.root, '--store', s.store]),
    'diff via helper': (s) => launched(s, ['diff', 'latest', '--workspace', s.root, '--store', s.store]),
    // the files a point changed (its parent against it): what `git diff-tree` answers for a commit
    show: (s) => measure(process.execPath, [s.cli, 'show', 'latest', '--workspace', s.root, '--store', s.store], { env }),
    // a point against the current files: every file of the workspace looked at, as `git diff HEAD` does
    diff: (s) => measure(process.execPath, [s.cli, 'diff', 'latest', '--workspace', s.root, '--store', s.store], { env }),
  };
  const gitCommit = () => {
    edit([ws.git]);
    const c = sg.checkpoint(`Checkpoint ${n}`);
    return { ms: c.ms, cpuMs: Number.NaN };
  };
  const gitLog = () => measure('git', [`--git-dir=${sg.gitDir}`, 'log', '--oneline'], { cwd: ws.git });
  const gitShow = () => measure('git', [`--git-dir=${sg.gitDir}`, 'diff-tree', '--name-status', '-r', 'HEAD'], { cwd: ws.git });
  const gitDiff = () => measure('git', [`--git-dir=${sg.gitDir}`, `--work-tree=${ws.git}`, 'diff', '--name-status', 'HEAD'], { cwd: ws.git });
  const gitSide: Record<CliCommand, (() => ProcessSample) | undefined> = {
    'node -e 0': undefined,
    'snapshot --changed': gitCommit,
    'snapshot --changed via helper': gitCommit,
    hook: undefined,
    'hook via helper': undefined,
    list: gitLog,
    'list via helper': gitLog,
    show: gitShow,
    'show via helper': gitShow,
    diff: gitDiff,
    'diff via helper': gitDiff,
  };
  // untimed: each store's first point, then one run of each command (its code cache)
  for (const s of sides) {
    run(process.execPath, [s.cli, 'snapshot', '--workspace', s.root, '--store', s.store], { env });
    for (const command of CLI_COMMANDS) if (command !== 'node -e 0' && (!viaHelper(command) || helpers.get(s.side)?.launcher)) commands[command](s);
  }
  log(`cli-only: ${ws.label}, ${sides.map((s) => s.side).join(' + ')} + git, ${rounds} rounds × ${iterations}`);
  const samples = Object.fromEntries(CLI_COMMANDS.map((c) => [c, {} as Record<string, ProcessSample[]>])) as CliOnlyResult['samples'];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < iterations; i++) {
      for (const command of CLI_COMMANDS) {
        const served = viaHelper(command) ? sides.filter((s) => helpers.get(s.side)?.launcher) : sides;
        const turns: Array<[string, () => ProcessSample]> = command === 'node -e 0' ? [['ours', () => commands[command](sides[0]!)]] : served.map((s) => [s.side, () => commands[command](s)] as [string, () => ProcessSample]);
        const git = gitSide[command];
        if (git) turns.push(['git', git]);
        const k = (r * iterations + i) % turns.length;
        for (const [side, work] of [...turns.slice(k), ...turns.slice(0, k)]) {
          settleDisk();
          (samples[command][side] ??= []).push(work());
          if (side === 'git' && command.startsWith('snapshot --changed')) await sg.waitForAutoGc();
        }
      }
    }
  }
  for (const [side, helper] of helpers) {
    await helper.stop();
    // every timed hook must have been the helper's, not Node's fallback
    const store = sides.find((s) => s.side === side)!.store;
    const made = fs.readFileSync(path.join(store, 'audit.log.jsonl'), 'utf8').split('\n').filter((line) => line.includes(`"actor":"hook:claude:${helper.pid}"`) && line.includes('"action":"create"')).length;
    const timed = samples['hook via helper'][side]?.length ?? 0;
    if (made < timed) throw new Error(`${side}: only ${made} of ${timed} hooks went through the helper`);
    const points = fs.readFileSync(path.join(store, 'audit.log.jsonl'), 'utf8').split('\n').filter((line) => line.includes(`"actor":"cli:${helper.pid}"`) && line.includes('"action":"create"')).length;
    const snapshots = samples['snapshot --changed via helper'][side]?.length ?? 0;
    if (points < snapshots) throw new Error(`${side}: only ${points} of ${snapshots} snapshots went through the helper`);
  }
  return { ws, samples };
}
