/**
 * `npm run bench`: our storage core against the shadow-git approach of AI agents' checkpoints
 * (Cline, Roo Code), scenario by scenario, the two taking turns over several rounds in the same run.
 * See BENCHMARKS.md for what is measured and how to read the results.
 *
 *   npm run bench                          full run (8–15 min on 2 cores)
 *   npm run bench -- --quick               small sizes, 2 rounds: a fast check
 *   npm run bench -- --files 50000         one synthetic size
 *   npm run bench -- --sizes 1000,10000    several sizes: how each scenario grows
 *   npm run bench -- --profile             also CPU profiles and system-call counts of our side
 *
 * Other flags: --rounds N, --iterations N, --points N (points in a row, 100), --list-points N (1,000),
 * --seed S, --tmp DIR (the temporary folder is made in DIR and removed at the end), --keep (DIR itself, or a
 * new temporary folder, is used and kept), --no-real / --real (the node_modules copy),
 * --media N / --no-media (the media-heavy workspace: N files, 10,000; 2,000 with --quick),
 * --host-only (only the rows from the real VS Code host, printed; no results file written),
 * --search-only (only the history search rows over 100 MB of distinct text, printed; no results file written),
 * --history-only (only a file's history rows: the --list-points store of the primary synthetic workspace, a file
 *   of 200 versions listed on the open store and in fresh processes, the first point's changes, the longest turns; printed),
 * --long-history N (only the long-history rows: a store grown to N points on the largest --sizes workspace
 *   (2,000 points on 50,000 files for issue #14's target), then open, list, heap, a point's changes and a one-file point,
 *   in fresh processes and on the open store; printed;
 *   with --tmp DIR --keep the grown store is kept, and the same command again measures it without growing),
 * --memory-only (only the memory of a first point of the largest --sizes workspace, ours and git's, with
 *   what stays after a forced collection once the point is made and after the clean-up that follows; printed),
 * --restore-only (only "Restore a point 100 files away" on the largest --sizes workspace, wall and CPU time,
 *   --rounds rounds; printed), --hint-only (only the one-file point with the save hint on the largest --sizes
 *   workspace, wall and CPU time, --rounds × --iterations; printed), --cli-only (only the command-line tool's
 *   whole processes on the largest --sizes workspace: `node -e 0`, `snapshot --changed`, `hook`, `list`, `diff`,
 *   wall and CPU time, --rounds × --iterations; printed), --against COMMIT (with --restore-only, --hint-only or
 *   --cli-only: also that commit's core, or its built tool, taking turns), --restore-saved (with --restore-only: the 100
 *   edits are saved in a point, and committed in git, before each restore, untimed: the extension's usual case).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RecoveryStore, type CaptureRules } from '../src/core/index';
import type { ChildRequest, SettledMemory } from './child';
import { profileMarkdown, summarizeProfile, type ProfileSummary } from './lib/cpuprofile';
import { ShadowGit } from './lib/git';
import { describeMachine, pageWriteCost, type MachineInfo, type PageWriteCost } from './lib/machine';
import { diskUsage, LoadSampler, run, runAsync, settleDisk, TIME_BIN } from './lib/proc';
import { fmtSummary, MB, num, ratio, round, summarize, type Summary } from './lib/stats';
import { countSyscalls, syscallGroups } from './lib/strace';
import { runHostBench } from './lib/host';
import { benchHistorySearch, bundleSearchWorker } from './lib/historySearch';
import { growLongHistory, oneFilePoints, type LongHistorySamples } from './lib/longHistory';
import { benchFileHistory } from './lib/fileHistoryBench';
import { contentHash, createRealCopy, createSynthetic, editFile, editIn, formatCount, type Workspace } from './lib/workspace';
import { MARK_END, MARK_START } from './lib/markers';
import { createMedia } from './lib/mediaWorkspace';
import { restoreOnly, settleLikeTheExtension, type RestoreSample } from './lib/restoreOnly';
import { hintOnly } from './lib/hintOnly';
import { startBenchHelper } from './lib/hookHelper';
import { OursUpkeep } from './lib/upkeep';
import { CLI_COMMANDS, cliOnly, viaHelper } from './lib/cliOnly';

const ROOT = path.resolve(__dirname, '..');

// ── options ────────────────────────────────────────────────────────────────

interface Options {
  sizes: number[];
  rounds: number;
  iterations: number;
  pointsInRow: number;
  listPoints: number;
  seed: string;
  tmp: string | undefined;
  keep: boolean;
  real: boolean;
  /** Files of the media-heavy workspace (a real repository's byte mix); 0: none. */
  media: number;
  quick: boolean;
  profile: boolean;
  host: boolean;
  hostOnly: boolean;
  searchOnly: boolean;
  historyOnly: boolean;
  /** Points of the long-history store (`--long-history`: only that scenario); 0 when not asked for. */
  longHistory: number;
  /** `--memory-only`: only the memory rows of a first point. */
  memoryOnly: boolean;
  /** `--restore-only`: only the rows of a restore 100 files away. */
  restoreOnly: boolean;
  /** `--hint-only`: only the rows of a one-file point with the save hint. */
  hintOnly: boolean;
  /** `--cli-only`: only the command-line tool's whole-process rows (its cold start). */
  cliOnly: boolean;
  /** `--restore-saved`: the restore-only edits are in a point (and a git commit) before each restore. */
  restoreSaved: boolean;
  /** `--against COMMIT`: the restore-only rows also for the core of that commit. */
  against: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const opts: Options = {
    sizes: quick ? [1000, 3000] : [1000, 10000, 50000],
    rounds: quick ? 2 : 3,
    iterations: quick ? 3 : 5,
    pointsInRow: quick ? 30 : 100,
    listPoints: quick ? 200 : 1000,
    seed: 'recovery-points-bench',
    tmp: undefined,
    keep: false,
    real: !quick,
    media: quick ? 2000 : 10000,
    quick,
    profile: false,
    host: !quick,
    hostOnly: false,
    searchOnly: false,
    historyOnly: false,
    longHistory: 0,
    memoryOnly: false,
    restoreOnly: false,
    restoreSaved: false,
    hintOnly: false,
    cliOnly: false,
    against: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const count = (v: string) => {
      const n = Number(v.replace(/k$/i, '000').replace(/_/g, ''));
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${arg}: ${v} is not a positive whole number`);
      return n;
    };
    switch (arg) {
      case '--quick':
        break;
      case '--files':
        opts.sizes = [count(value())];
        break;
      case '--sizes':
        opts.sizes = value().split(',').map(count);
        break;
      case '--rounds':
        opts.rounds = count(value());
        break;
      case '--iterations':
        opts.iterations = count(value());
        break;
      case '--points':
        opts.pointsInRow = count(value());
        break;
      case '--list-points':
        opts.listPoints = count(value());
        break;
      case '--seed':
        opts.seed = value();
        break;
      case '--tmp':
        opts.tmp = path.resolve(value());
        break;
      case '--keep':
        opts.keep = true;
        break;
      case '--real':
        opts.real = true;
        break;
      case '--no-real':
        opts.real = false;
        break;
      case '--media':
        opts.media = count(value());
        break;
      case '--no-media':
        opts.media = 0;
        break;
      case '--profile':
        opts.profile = true;
        break;
      case '--host':
        opts.host = true;
        break;
      case '--no-host':
        opts.host = false;
        break;
      case '--host-only':
        opts.host = true;
        opts.hostOnly = true;
        break;
      case '--search-only':
        opts.searchOnly = true;
        break;
      case '--history-only':
        opts.historyOnly = true;
        break;
      case '--long-history':
        opts.longHistory = count(value());
        break;
      case '--memory-only':
        opts.memoryOnly = true;
        break;
      case '--restore-only':
        opts.restoreOnly = true;
        break;
      case '--restore-saved':
        opts.restoreSaved = true;
        break;
      case '--hint-only':
        opts.hintOnly = true;
        break;
      case '--cli-only':
        opts.cliOnly = true;
        break;
      case '--against':
        opts.against = value();
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${fs.readFileSync(__filename, 'utf8').split('*/')[0]}*/\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg} (see --help)`);
    }
  }
  opts.sizes = [...new Set(opts.sizes)].sort((a, b) => a - b);
  return opts;
}

// ── results ────────────────────────────────────────────────────────────────

interface Row {
  readonly workspace: string;
  readonly files: number;
  readonly key: string;
  readonly scenario: string;
  readonly unit: 'ms' | 'MB' | 'ns' | 'faults';
  readonly ours: Summary | null;
  readonly git: Summary | null;
  readonly gitCommand: string;
  readonly note?: string;
}

interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

interface WorkspaceReport {
  readonly label: string;
  readonly kind: 'synthetic' | 'real' | 'media';
  readonly files: number;
  readonly bytesMB: number;
  readonly binaryFiles: number;
  readonly largeFiles: number;
  readonly folders: number;
  readonly maxDepth: number;
  readonly symlinks: number;
  readonly setupSeconds: number;
  readonly oursFileCount?: number;
  readonly gitFileCount?: number;
  readonly gitAutoGc: { runs: number; waitSeconds: number };
  /** The clean-ups the extension would have run (every 25 points), run untimed like git's automatic gc. */
  readonly oursCleanups: { runs: number; waitSeconds: number };
  readonly notes: string[];
  readonly oursStats?: unknown;
  readonly loadBefore: number;
  readonly loadAfter: number;
  readonly seconds: number;
}

const rows: Row[] = [];
/**
 * Node warnings seen in this process and its children (the core leaking file handles shows up here),
 * counted instead of printed; a worker hands its counts to the parent.
 */
const processWarnings = new Map<string, number>();
const workspaces: WorkspaceReport[] = [];
const profiles: Array<{ title: string; summary: ProfileSummary; syscalls?: Array<{ group: string; calls: number }> }> = [];
/** When the run started (a worker is told the parent's), for the log's time stamps. */
let runStartedAt = Date.now();
const log = (message: string) => process.stderr.write(`[bench ${((Date.now() - runStartedAt) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);

function addRow(ws: Workspace, key: string, scenario: string, unit: Row['unit'], ours: number[], git: number[], gitCommand: string, note?: string): Row {
  const row: Row = { workspace: ws.label, files: ws.files, key, scenario, unit, ours: summarize(ours), git: summarize(git), gitCommand, note };
  rows.push(row);
  log(`  ${scenario}: ours ${fmtSummary(row.ours, unit)} | git ${fmtSummary(row.git, unit)}`);
  return row;
}

// ── our core, in-process (as the extension calls it) ────────────────────────

interface Ours {
  store: RecoveryStore;
}

async function openOurs(storeDir: string, ws: Workspace, rules?: Partial<CaptureRules>): Promise<Ours> {
  const store = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: ws.ours }], rules, actor: 'bench' });
  // as the extension does with its settings: the command-line tool and the hooks on this store capture by the same rules
  if (rules) store.persistence.saveCaptureRules();
  return { store };
}

async function time<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await work();
  return { ms: performance.now() - t, value };
}

// ── child process (fresh process: peak memory, listing, profiles) ──────────

let childBundle: string | undefined;

async function buildChild(tmp: string): Promise<string> {
  const outfile = path.join(tmp, 'child.cjs');
  // esbuild from this project's devDependencies: the child runs without a TypeScript loader, as the
  // bundled extension does, so its memory is the core's and not tsx's.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({ entryPoints: [path.join(__dirname, 'child.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'warning' });
  // the process a first point is captured in, as the extension runs it (dist/captureProcess.js)
  await esbuild.build({ entryPoints: [path.join(__dirname, '..', 'src', 'core', 'capture', 'captureProcessMain.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: captureScriptOf(outfile), logLevel: 'warning' });
  return outfile;
}

/** The bundled capture process next to the child bundle. */
function captureScriptOf(childBundle: string): string {
  return path.join(path.dirname(childBundle), 'captureProcess.cjs');
}

async function child(request: ChildRequest, measureRss = false): Promise<{ result: Record<string, number | string>; wallMs: number; maxRssBytes?: number }> {
  const r = await runAsync(process.execPath, ['--expose-gc', childBundle!, JSON.stringify(request)], { measureRss });
  countChildWarnings(r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
  return { result, wallMs: r.ms, maxRssBytes: r.maxRssBytes ?? (result.maxRss as number) };
}

// ── one workspace: every scenario ─────────────────────────────────────────

const REAL_RULES: Partial<CaptureRules> = { excludeSecrets: false, maxFileSize: 2 ** 31 };

/** The tool's commands that read the store, timed through the launcher against git's (#14 target 2). */
const HELPER_READS = [
  { key: 'cli-list-helper', args: ['list'], git: ['log', '--oneline'], what: 'A cold `list`' },
  { key: 'cli-show-helper', args: ['show', 'latest'], git: ['diff-tree', '--name-status', '-r', 'HEAD'], what: 'A point\'s changes (`show latest`), cold,' },
] as const;

interface Context {
  readonly opts: Options;
  readonly tmp: string;
  readonly primary: boolean;
  /** Scenarios that need many steps (100 points in a row, listing) run on the primary workspace only. */
  readonly full: boolean;
  readonly coldRounds: number;
  /** Rounds and iterations per round of the other scenarios (fewer on the secondary workspaces, to keep a run short). */
  readonly rounds: number;
  readonly iterations: number;
}

interface PrimaryState {
  storeDir: string;
  ws: Workspace;
  listStoreDir?: string;
}

async function benchWorkspace(ws: Workspace, ctx: Context, rules: Partial<CaptureRules> | undefined): Promise<PrimaryState> {
  const wsStarted = performance.now();
  const loadBefore = os.loadavg()[0]!;
  const id = path.basename(ws.ours).replace(/-ours$/, '');
  const storeDir = path.join(ctx.tmp, `${id}-store`);
  const gitDir = path.join(ctx.tmp, `${id}-shadow.git`);
  const sg = new ShadowGit(gitDir, ws.git);
  const notes: string[] = [];
  const { rounds, iterations } = ctx;
  let edit = 0;
  const nextEdit = () => ws.editable[edit++ % ws.editable.length]!;
  log(`${ws.label}: ${num(ws.bytes / MB)} MB, ${ws.folders} folders, ready in ${ws.setupSeconds.toFixed(1)} s`);

  // 1. first point, cold (empty store / empty shadow repository); ours in a fresh process for its peak memory
  const first = { ours: [] as number[], git: [] as number[], oursRss: [] as number[], gitRss: [] as number[] };
  let oursFileCount = 0;
  let oursPeak: { heapUsed: number; external: number; arrayBuffers: number; rss: number } | undefined;
  let oursBaseline = 0;
  let gitBeforeGc = 0;
  let gitBeforeGcApparent = 0;
  const settled = { point: [] as SettledMemory[], cleanup: [] as SettledMemory[], baselines: [] as number[], cleanupMs: 0, recompressed: 0 };
  let beforeCleanupDu: ReturnType<typeof diskUsage> | undefined;
  for (let r = 0; r < ctx.coldRounds; r++) {
    for (const side of r % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
      if (side === 'ours') {
        fs.rmSync(storeDir, { recursive: true, force: true });
        // the last round also runs the clean-up that follows (its memory measured after it); the others close right after the point
        const cleanup = r === ctx.coldRounds - 1;
        const c = await child({ mode: 'first-point', storeDir, root: ws.ours, rules, cleanup }, true);
        first.ours.push(c.result.totalMs as number);
        // with the clean-up in the same process, its peak is the point's: measured inside, before the clean-up
        const peak = cleanup ? (c.result.pointMaxRss as number) : c.maxRssBytes;
        if (peak) first.oursRss.push(peak / MB);
        oursFileCount = c.result.fileCount as number;
        oursPeak = c.result.peakMemory as unknown as typeof oursPeak;
        oursBaseline = c.result.baselineRss as number;
        settled.baselines.push(oursBaseline);
        settled.point.push(c.result.afterPoint as unknown as SettledMemory);
        if (cleanup) {
          beforeCleanupDu = c.result.duBeforeCleanup as unknown as ReturnType<typeof diskUsage>;
          settled.cleanup.push(c.result.afterCleanup as unknown as SettledMemory);
          settled.cleanupMs = c.result.cleanupMs as number;
          settled.recompressed = c.result.cleanupRecompressed as number;
        }
      } else {
        sg.init();
        const c = sg.checkpoint('Checkpoint 1', true);
        first.git.push(c.ms);
        if (c.maxRssBytes) first.gitRss.push(c.maxRssBytes / MB);
        const du = diskUsage(gitDir);
        gitBeforeGc = du.allocated;
        gitBeforeGcApparent = du.apparent;
        await sg.waitForAutoGc();
      }
    }
  }
  const gitFileCount = sg.trackedFiles();
  if (gitFileCount !== oursFileCount) notes.push(`File counts differ: ours ${oursFileCount}, git ${gitFileCount}.`);
  addRow(ws, 'first', 'First point (cold, empty store)', 'ms', first.ours, first.git, 'add -A && commit', 'ours: open + createRecoveryPoint + close in a fresh process (time measured inside it)');
  addRow(ws, 'rss', 'Peak memory (RSS), first point', 'MB', first.oursRss, first.gitRss, 'max of add / commit',
    `ours: whole Node process (${TIME_BIN ? '/usr/bin/time -v' : 'resourceUsage'}), ${num(oursBaseline / MB)} MB before opening the store` +
      (oursPeak ? `; sampled peaks: V8 heap used ${num(oursPeak.heapUsed / MB)} MB, buffers outside the heap ${num(oursPeak.arrayBuffers / MB)} MB` : ''),
  );
  addMemoryRows(ws, first.oursRss, settled);
  if (ws.kind === 'synthetic' && ws.files >= 50_000) {
    // target 4 the way the extension makes a store's first point: in a process of its own, so the
    // extension host (the caller) keeps none of its memory (`--memory-only` measures more of it)
    fs.rmSync(storeDir, { recursive: true, force: true });
    const e = await child({ mode: 'first-point', storeDir, root: ws.ours, rules, captureScript: captureScriptOf(childBundle!) }, true);
    if (e.result.fileCount !== oursFileCount) throw new Error(`the first point captured in a process of its own has ${e.result.fileCount} files, not ${oursFileCount}`);
    addRow(ws, 'rss-above-elsewhere', 'Peak memory (RSS) above Node\'s baseline, first point captured in a process of its own (the caller: the extension host)', 'MB', [(e.result.pointMaxRss as number) / MB - (e.result.baselineRss as number) / MB], [], '—', `as the extension makes a store's first point; the capture process's own peak ${num(e.result.processMaxRssMB as number)} MB, freed when it ends`);
    fs.rmSync(storeDir, { recursive: true, force: true });
    // the store the rows below work on: the last cold round's, again (untimed)
    const c = await child({ mode: 'first-point', storeDir, root: ws.ours, rules, cleanup: true }, true);
    if (c.result.fileCount !== oursFileCount) throw new Error(`the first point has ${c.result.fileCount} files, not ${oursFileCount}`);
  }
  // the last round's child ran the clean-up too: it measured the store before it
  const oursFirstDu = beforeCleanupDu ?? diskUsage(storeDir);
  const gitFirstDu = diskUsage(gitDir);
  const gcNote = sg.autoGcRuns > 0 ? `git after its automatic gc; right after the commit (loose objects) ${num(gitBeforeGc / MB)} MB (${num(gitBeforeGcApparent / MB)} MB apparent)` : 'git did not run an automatic gc';
  addRow(ws, 'size-first', 'Store size on disk after the first point', 'MB', [oursFirstDu.allocated / MB], [gitFirstDu.allocated / MB], 'du of the shadow .git', `du -sk; apparent size ours ${num(oursFirstDu.apparent / MB)} MB, git ${num(gitFirstDu.apparent / MB)} MB; ${gcNote}`);

  // The extension follows a point that added over 16 MiB with a clean-up (repacking with stronger
  // compression), as git follows a big commit with its automatic gc: measured the same way, untimed.
  // (the last cold round's child ran it already, measuring its memory)
  const ours = await openOurs(storeDir, ws, rules);
  const oursUpkeep = new OursUpkeep(ours.store);
  // each tool's upkeep after its turns, untimed and waited for: git's automatic gc, the extension's clean-up
  const upkeep = async () => {
    await sg.waitForAutoGc();
    await oursUpkeep.due();
  };
  const oursRepackedDu = diskUsage(storeDir);
  addRow(ws, 'size-first-repacked', 'Store size after the first point and the clean-up that follows it', 'MB', [oursRepackedDu.allocated / MB], [gitFirstDu.allocated / MB], 'du of the shadow .git',
    `ours: cleanupRecoveryPoints() as the extension runs it after a point that added over 16 MiB (${num(settled.cleanupMs)} ms in the background, ${settled.recompressed} objects recompressed); ${gcNote}`);

  // 2. a point after one file changed: with the path as a hint, and without (full check)
  const one = { hint: [] as number[], full: [] as number[], git: [] as number[], hintFaults: [] as number[] };
  {
    // warm-up, not measured: the extension's store is open and has made points before
    const file = editFile(ws, nextEdit(), 'warm-up');
    await ours.store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] });
    sg.checkpoint('warm-up');
    await upkeep();
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < iterations; i++) {
      for (const mode of ['hint', 'full'] as const) {
        const file = editFile(ws, nextEdit(), `one-${mode}-${r}-${i}`);
        for (const side of (r + i) % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
          settleDisk();
          if (side === 'ours') {
            const options = mode === 'hint' ? { trigger: 'save' as const, changedPaths: [file] } : { trigger: 'save' as const };
            const faults = process.resourceUsage().minorPageFault;
            one[mode].push((await time(() => ours.store.recovery.createRecoveryPoint(undefined, options))).ms);
            if (mode === 'hint') one.hintFaults.push(process.resourceUsage().minorPageFault - faults);
          } else {
            one.git.push(sg.checkpoint(`Checkpoint one-${mode}-${r}-${i}`).ms);
            await upkeep();
          }
        }
      }
    }
  }
  addRow(ws, 'one-hint', 'One-file point, path given as a hint', 'ms', one.hint, one.git, 'add -A && commit', pageFaultNote(one.hintFaults));
  addRow(ws, 'one-full', 'One-file point, full check (no hint)', 'ms', one.full, one.git, 'add -A && commit', 'git column: the same add+commit samples as the row above');
  if (ctx.full) await awaitCostRows(ws, ctx.tmp);

  // 2b. the command-line tool's one-file point as a whole process: what agents' hooks, scripts and
  //     every cold start pay (Node's start-up, loading the bundle, opening the store, the capture cache)
  if (ctx.full) {
    const cli = path.join(ROOT, 'dist', 'cli.js');
    if (!fs.existsSync(cli)) {
      notes.push('dist/cli.js is missing (run `npm run build`): the command-line rows were skipped.');
    } else {
      const cliStore = path.join(ctx.tmp, `${id}-cli-store`);
      const snapshot = (extra: readonly string[]) => run(process.execPath, [cli, 'snapshot', '--workspace', ws.ours, '--store', cliStore, ...extra]);
      snapshot([]); // untimed: the tool's store gets its first point
      const cliRuns = { ours: [] as number[], git: [] as number[] };
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < iterations; i++) {
          const file = editFile(ws, nextEdit(), `cli-${r}-${i}`);
          for (const side of (r + i) % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
            settleDisk();
            if (side === 'ours') cliRuns.ours.push(snapshot(['--changed', file]).ms);
            else {
              cliRuns.git.push(sg.checkpoint(`Checkpoint cli-${r}-${i}`).ms);
              await upkeep();
            }
          }
        }
      }
      addRow(ws, 'cli-changed', 'One-file point, command-line tool (`snapshot --changed FILE`, whole process)', 'ms', cliRuns.ours, cliRuns.git, 'add -A && commit',
        'ours: wall time of `node dist/cli.js snapshot --workspace W --store S --changed FILE`, Node start-up, bundle, store open and capture cache included (the store holds the tool\'s first point and these)');
      // the same through `dist/recovery-points` (Linux and macOS) with the resident helper running (started untimed)
      const helper = await startBenchHelper(cli, path.join(ctx.tmp, `${id}-cli-helper`));
      if (helper?.launcher) {
        const viaHelper = { ours: [] as number[], git: [] as number[] };
        // a Node that does not exist: a point the helper did not make fails the benchmark
        const launcherEnv = { ...helper.env, RECOVERY_POINTS_NODE: '/nonexistent/node' };
        try {
          for (let r = 0; r < rounds; r++) {
            for (let i = 0; i < iterations; i++) {
              const file = editFile(ws, nextEdit(), `cli-helper-${r}-${i}`);
              for (const side of (r + i) % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
                settleDisk();
                if (side === 'ours') {
                  const out = run(helper.launcher, ['snapshot', '--workspace', ws.ours, '--store', cliStore, '--changed', file], { env: launcherEnv });
                  if (out.stderr) throw new Error(`dist/recovery-points snapshot: ${out.stderr}`);
                  viaHelper.ours.push(out.ms);
                } else {
                  viaHelper.git.push(sg.checkpoint(`Checkpoint cli-helper-${r}-${i}`).ms);
                  await upkeep();
                }
              }
            }
          }
          // the commands that read the store, as whole processes, against git's: a cold `list` no
          // slower than `git log`, a point's changes (`show`) no slower than `git diff-tree`
          let points = 0;
          for (const read of HELPER_READS) {
            const runs = { ours: [] as number[], git: [] as number[] };
            for (let r = 0; r < rounds; r++) {
              for (let i = 0; i < iterations; i++) {
                for (const side of (r + i) % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
                  if (side === 'ours') {
                    const out = run(helper.launcher, [...read.args, '--workspace', ws.ours, '--store', cliStore], { env: launcherEnv });
                    if (out.stderr || !out.stdout) throw new Error(`dist/recovery-points ${read.args.join(' ')}: ${out.stderr || 'no output'}`);
                    runs.ours.push(out.ms);
                    if (read.key === 'cli-list-helper') points = out.stdout.trim().split('\n').length;
                  } else {
                    runs.git.push(sg.git(read.git).ms);
                  }
                }
              }
            }
            addRow(ws, read.key, `\`dist/recovery-points ${read.args.join(' ')}\` through the resident helper (whole process)`, 'ms', runs.ours, runs.git, read.git.join(' '),
              `ours: the launcher (bash, hook-client.sh) on the tool's store of this workspace (${formatCount(points)} points, as \`list\` printed them); git on the shadow repository (all of this run's commits)`);
          }
        } finally {
          await helper.stop();
        }
        addRow(ws, 'cli-changed-helper', 'One-file point, command-line tool through the resident helper (`dist/recovery-points snapshot --changed FILE`, whole process)', 'ms', viaHelper.ours, viaHelper.git, 'add -A && commit',
          'ours: wall time of the launcher (bash, hook-client.sh) with `recovery-points hook-helper` running, started untimed; any command that reached Node would fail');
      }
      // the edits above are unknown to the open store's hints: one full check (untimed) catches it up
      await ours.store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
      fs.rmSync(cliStore, { recursive: true, force: true });
    }
  }
  // 2c. an agent's hook: `recovery-points hook` as Claude Code runs it after an Edit (a new Node process, payload on stdin)
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const hookArgs = ['hook', '--agent', 'claude', '--store', storeDir, '--workspace', ws.ours, '--budget', '60000'];
  /** Each round's hooks (a Claude Code PostToolUse Edit payload on stdin) and git's add+commit, taking turns. */
  const timeHooks = async (tag: string, program: string, args: readonly string[], env?: NodeJS.ProcessEnv) => {
    const runs = { ours: [] as number[], git: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < iterations; i++) {
        const file = editFile(ws, nextEdit(), `${tag}-${r}-${i}`);
        for (const side of (r + i) % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
          settleDisk();
          if (side === 'ours') {
            const payload = JSON.stringify({ session_id: 'bench', transcript_path: '/dev/null', cwd: ws.ours, hook_event_name: 'PostToolUse', tool_name: 'Edit', tool_input: { file_path: file }, tool_use_id: `toolu_${tag}_${r}_${i}` });
            const out = run(program, [...args, ...hookArgs], { input: payload, env });
            if (out.stderr) throw new Error(`the hook made no point: ${out.stderr}`);
            runs.ours.push(out.ms);
          } else {
            runs.git.push(sg.checkpoint(`Checkpoint ${tag}-${r}-${i}`).ms);
            await upkeep();
          }
        }
      }
    }
    return runs;
  };
  const hookRuns = await timeHooks('hook', process.execPath, [cli]);
  addRow(ws, 'hook-process', 'Agent hook, one-file point (whole process, Node start included)', 'ms', hookRuns.ours, hookRuns.git, 'add -A && commit', 'ours: node dist/cli.js hook with a Claude Code PostToolUse Edit payload on stdin (the store\'s saved capture rules apply, as the extension leaves them)');

  // 2d. the same hook as `hooks install` writes it on Linux: bash and hook-client.sh, through the resident helper (started untimed)
  const helper = await startBenchHelper(cli, path.join(ctx.tmp, `${id}-hook-helper`));
  if (!helper) {
    notes.push('dist/hook-client.sh is missing (run `npm run build`): the resident helper\'s row was skipped.');
  } else {
    let helperRuns: { ours: number[]; git: number[] };
    try {
      helperRuns = await timeHooks('helper', ...helper.command, helper.env);
    } finally {
      await helper.stop();
    }
    // every timed hook must have been the helper's, not Node's fallback
    const byHelper = (await ours.store.persistence.audit.read()).filter((e) => e.action === 'create' && e.actor === `hook:claude:${helper.pid}`).length;
    if (byHelper < helperRuns.ours.length) throw new Error(`only ${byHelper} of ${helperRuns.ours.length} hooks went through the helper`);
    addRow(ws, 'hook-helper', 'Agent hook, one-file point, through the resident helper (whole process: bash and hook-client.sh)', 'ms', helperRuns.ours, helperRuns.git, 'add -A && commit',
      'ours: bash dist/hook-client.sh NODE dist/cli.js hook … (the command `hooks install` writes on Linux and macOS) with `recovery-points hook-helper` running, started untimed; each point checked in the audit log to be the helper\'s');
  }

  // 3. 100 points in a row, each after one file changed (ours with the hint, as on save)
  let lastOnePoint: string | undefined;
  let lastOneCommit: string | undefined;
  if (ctx.full) {
    const n = ctx.opts.pointsInRow;
    const before = { ours: diskUsage(storeDir), git: diskUsage(gitDir) };
    const seq = { ours: [] as number[], git: [] as number[] };
    for (let i = 0; i < n; i++) {
      const file = editFile(ws, nextEdit(), `row-${i}`);
      for (const side of i % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
        settleDisk();
        if (side === 'ours') {
          const t = await time(() => ours.store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] }));
          seq.ours.push(t.ms);
          lastOnePoint = t.value!.id;
        } else {
          seq.git.push(sg.checkpoint(`Checkpoint row-${i}`).ms);
          await upkeep();
        }
      }
    }
    lastOneCommit = sg.head();
    const after = { ours: diskUsage(storeDir), git: diskUsage(gitDir) };
    const firstTen = summarize(seq.ours.slice(0, 10))!.median;
    const lastTen = summarize(seq.ours.slice(-10))!.median;
    addRow(ws, 'row-time', `${n} points in a row: time per point`, 'ms', seq.ours, seq.git, 'add -A && commit', `ours median of points 1–10 ${num(firstTen)} ms, of the last 10 ${num(lastTen)} ms`);
    addRow(
      ws,
      'row-growth',
      `Store growth over ${n} one-file points`,
      'MB',
      [(after.ours.allocated - before.ours.allocated) / MB],
      [(after.git.allocated - before.git.allocated) / MB],
      'du of the shadow .git',
      `du -sk; apparent growth ours ${num((after.ours.apparent - before.ours.apparent) / 1024)} kB, git ${num((after.git.apparent - before.git.apparent) / 1024)} kB; per point ours ${num((after.ours.allocated - before.ours.allocated) / n / 1024)} kB, git ${num((after.git.allocated - before.git.allocated) / n / 1024)} kB`,
    );
    addRow(ws, 'size-after', `Store size on disk after ${n + 2 + 2 * rounds * iterations} points`, 'MB', [after.ours.allocated / MB], [after.git.allocated / MB], 'du of the shadow .git');
  }

  // 4. restore a point 100 files away; restore one file
  const target = (await ours.store.recovery.listRecoveryPoints())[0]!;
  const targetCommit = sg.head();
  lastOnePoint ??= target.id;
  lastOneCommit ??= targetCommit;
  const hundred: string[] = [];
  while (hundred.length < Math.min(100, ws.editable.length)) {
    const rel = nextEdit();
    if (!hundred.includes(rel)) hundred.push(rel);
  }
  const expected = new Map(hundred.map((rel) => [rel, contentHash(ws.ours, rel)]));
  const check = (what: string, rels: readonly string[]) => {
    for (const rel of rels) {
      const want = expected.get(rel);
      const a = contentHash(ws.ours, rel);
      const b = contentHash(ws.git, rel);
      if (a !== want || b !== want) throw new Error(`${what}: ${rel} not restored (ours ${a === want}, git ${b === want})`);
    }
  };
  const restore = {
    ours: [] as number[],
    oursFull: [] as number[],
    git: [] as number[],
    gitSafe: [] as number[],
    oursSaved: [] as number[],
    gitSaved: [] as number[],
    oursFile: [] as number[],
    oursFileFull: [] as number[],
    gitFile: [] as number[],
  };
  const safetyModes = { hint: 0, full: 0 };
  const savedModes = { hint: 0, full: 0 };
  const checkOurs = (what: string, rels: readonly string[]) => {
    for (const rel of rels) if (contentHash(ws.ours, rel) !== expected.get(rel)) throw new Error(`${what}: ${rel} not restored (ours)`);
  };
  // After a restore the newest point is its safety point, over which the store takes no hint; the
  // extension's first point after a restore is a full scan (untimed here), so hints apply again.
  const settle = async () => {
    if ((await ours.store.recovery.listRecoveryPoints())[0]?.trigger === 'before-restore') await ours.store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
  };
  let hundredPoint: string | undefined;
  let hundredCommit: string | undefined;
  for (let r = 0; r < rounds; r++) {
    // the row of target 6: `iterations` samples a round, like the one-file point's, for a median that
    // three samples of a noisy machine cannot give
    for (let i = 0; i < iterations; i++) {
      await settle();
      // ours with the edited paths as its hint: what the extension's watcher passes
      const edited = hundred.map((rel) => editFile(ws, rel, `restore-${r}-${i}`));
      for (const side of (r + i) % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
        settleDisk();
        if (side === 'ours') {
          const t = await time(() => ours.store.recovery.restore(target.id, { changedPaths: edited }));
          restore.ours.push(t.ms);
          safetyModes[t.value.safetyCapture]++;
          hundredPoint ??= t.value.safetyPointId;
        } else {
          restore.git.push(sg.git(['reset', '-q', '--hard', targetCommit]).ms);
        }
      }
      check('restore', hundred);
      await oursUpkeep.due();
    }
    // the same with the edits already in a point (and a commit), untimed: what the extension's points on
    // save and on outside changes usually leave before a restore; its safety point then stores nothing new
    {
      await settle();
      const editedAt = Date.now();
      const edited = hundred.map((rel) => editFile(ws, rel, `restore-saved-${r}`));
      await ours.store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: edited });
      sg.checkpoint(`Saved edits ${r}`);
      await upkeep();
      await settleLikeTheExtension([ours.store], editedAt);
      for (const side of r % 2 === 0 ? ['git', 'ours'] : ['ours', 'git']) {
        settleDisk();
        if (side === 'ours') {
          const t = await time(() => ours.store.recovery.restore(target.id, { changedPaths: [] }));
          restore.oursSaved.push(t.ms);
          savedModes[t.value.safetyCapture]++;
        } else restore.gitSaved.push(sg.git(['reset', '-q', '--hard', targetCommit]).ms);
      }
      check('restore of saved edits', hundred);
    }
    // ours without a hint: a full scan for the safety point (the command-line tool; a watcher that cannot vouch)
    for (const rel of hundred) editIn([ws.ours], rel, `restore-full-${r}`);
    settleDisk();
    restore.oursFull.push((await time(() => ours.store.recovery.restore(target.id))).ms);
    checkOurs('restore without hint', hundred);
    // what git costs with a safety commit first (what our restore does): git copy only
    for (const rel of hundred) editIn([ws.git], rel, `restore-safe-${r}`);
    settleDisk();
    const c = sg.checkpoint(`Before restore ${r}`);
    hundredCommit ??= sg.head();
    const reset = sg.git(['reset', '-q', '--hard', targetCommit]);
    restore.gitSafe.push(c.ms + reset.ms);
    await upkeep();
    check('restore with safety commit', hundred);
    // one file, with its path as the hint, then without
    const rel = hundred[r % hundred.length]!;
    await settle();
    const file = editFile(ws, rel, `restore-file-${r}`);
    for (const side of r % 2 === 0 ? ['git', 'ours'] : ['ours', 'git']) {
      settleDisk();
      if (side === 'ours') {
        const t = await time(() => ours.store.recovery.restoreFile(target.id, `ws/${rel}`, { changedPaths: [file] }));
        restore.oursFile.push(t.ms);
        safetyModes[t.value.safetyCapture]++;
      } else restore.gitFile.push(sg.git(['checkout', '-q', targetCommit, '--', rel]).ms);
    }
    check('restore one file', [rel]);
    editIn([ws.ours], rel, `restore-file-full-${r}`);
    settleDisk();
    restore.oursFileFull.push((await time(() => ours.store.recovery.restoreFile(target.id, `ws/${rel}`))).ms);
    checkOurs('restore one file without hint', [rel]);
  }
  const hintNote = `ours: safety point in hint mode over the edited paths plus the planned ones (what the extension's watcher passes; ${safetyModes.hint} of ${safetyModes.hint + safetyModes.full} hint restores captured in hint mode); an untimed full-scan point first when the newest point was a safety point`;
  addRow(ws, 'restore', 'Restore a point 100 files away', 'ms', restore.ours, restore.git, 'reset --hard <commit>', hintNote);
  addRow(ws, 'restore-saved', '…with the edits already in a point', 'ms', restore.oursSaved, restore.gitSaved, 'reset --hard <commit>', `the 100 edits saved in a point (and committed in git) first, then the extension's idle time (the files its point read within the racy window read again and kept), untimed: the safety point stores nothing new (${savedModes.hint} of ${savedModes.hint + savedModes.full} in hint mode); one a round`);
  addRow(ws, 'restore-full', '…ours without a hint (full-scan safety point)', 'ms', restore.oursFull, restore.git, 'reset --hard <commit>', 'as the command-line tool restores (one a round); git column: the samples of the row above');
  addRow(ws, 'restore-safe', '…git with a safety commit first, as ours does', 'ms', restore.ours, restore.gitSafe, 'add -A && commit && reset --hard', 'ours column: the samples of the first row (hint); git: one a round');
  addRow(ws, 'restore-file', 'Restore one file', 'ms', restore.oursFile, restore.gitFile, 'checkout <commit> -- file', 'ours: safety point in hint mode over the edited file');
  addRow(ws, 'restore-file-full', '…ours without a hint (full-scan safety point)', 'ms', restore.oursFileFull, restore.gitFile, 'checkout <commit> -- file', 'git column: the same samples as the row above');

  // 5. the changed files of one point (what the tree view lists under a point): on the store object the
  //    extension keeps open (trees read before are cached), and cold in a fresh process (the first
  //    expansion after start-up; one store object per process, see "Measuring in fresh processes")
  const changed = { one: [] as number[], hundred: [] as number[], oneCold: [] as number[], hundredCold: [] as number[], gitOne: [] as number[], gitHundred: [] as number[] };
  const expectCount = (which: string, count: number, want: number) => {
    if (count !== want) notes.push(`changedFiles(${which}) listed ${count} files, expected ${want}`);
  };
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < iterations; i++) {
      for (const side of (r + i) % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
        if (side === 'ours') {
          for (const [which, pointId, want] of [['one', lastOnePoint, 1], ['hundred', hundredPoint!, 100]] as const) {
            const warm = await time(() => ours.store.recovery.changedFiles(pointId));
            expectCount(which, warm.value.added.length + warm.value.modified.length + warm.value.deleted.length, want);
            changed[which].push(warm.ms);
            if (i === 0) {
              const cold = await child({ mode: 'changed-files', storeDir, root: ws.ours, rules, pointId });
              expectCount(which, cold.result.count as number, want);
              changed[which === 'one' ? 'oneCold' : 'hundredCold'].push(cold.result.changedMs as number);
            }
          }
        } else {
          changed.gitOne.push(sg.git(['diff-tree', '--name-status', '-r', lastOneCommit]).ms);
          const h = sg.git(['diff-tree', '--name-status', '-r', hundredCommit!]);
          if (h.stdout.trim().split('\n').length !== 101) notes.push(`git diff-tree listed ${h.stdout.trim().split('\n').length - 1} files`);
          changed.gitHundred.push(h.ms);
        }
      }
    }
  }
  await ours.store.close();
  addRow(ws, 'changed-1', 'Changed files of a 1-file point', 'ms', changed.one, changed.gitOne, 'diff-tree --name-status -r', 'ours: changedFiles(id) on the open store object');
  addRow(ws, 'changed-100', 'Changed files of a 100-file point', 'ms', changed.hundred, changed.gitHundred, 'diff-tree --name-status -r', 'ours: changedFiles(id) on the open store object');
  addRow(ws, 'changed-1-cold', 'Changed files of a 1-file point, cold', 'ms', changed.oneCold, changed.gitOne, 'diff-tree --name-status -r', 'ours: a fresh process opens the store and calls changedFiles(id); time inside it, open excluded');
  addRow(ws, 'changed-100-cold', 'Changed files of a 100-file point, cold', 'ms', changed.hundredCold, changed.gitHundred, 'diff-tree --name-status -r', 'as above');

  const statsStore = await openOurs(storeDir, ws, rules);
  const stats = await statsStore.store.recovery.stats();
  await statsStore.store.close();
  workspaces.push({
    label: ws.label,
    kind: ws.kind,
    files: ws.files,
    bytesMB: round(ws.bytes / MB, 1),
    binaryFiles: ws.binaryFiles,
    largeFiles: ws.largeFiles,
    folders: ws.folders,
    maxDepth: ws.maxDepth,
    symlinks: ws.symlinks,
    setupSeconds: round(ws.setupSeconds, 1),
    oursFileCount,
    gitFileCount,
    gitAutoGc: { runs: sg.autoGcRuns, waitSeconds: round(sg.autoGcWaitMs / 1000, 1) },
    oursCleanups: { runs: oursUpkeep.runs, waitSeconds: round(oursUpkeep.ms / 1000, 1) },
    notes,
    oursStats: { points: stats.points, objects: stats.objects, packs: stats.packs, storedMB: round(stats.storedBytes / MB, 1), dedupRatio: round(stats.dedupRatio, 1) },
    loadBefore: round(loadBefore, 2),
    loadAfter: round(os.loadavg()[0]!, 2),
    seconds: round((performance.now() - wsStarted) / 1000, 1),
  });
  return { storeDir, ws };
}

// ── listing 1,000 points ───────────────────────────────────────────────────

async function benchListing(ctx: Context): Promise<string> {
  const n = ctx.opts.listPoints;
  const ws: Workspace = {
    label: `tiny workspace, ${formatCount(n)} points`,
    kind: 'synthetic',
    ours: path.join(ctx.tmp, 'tiny-ours'),
    git: path.join(ctx.tmp, 'tiny-git'),
    files: 3,
    bytes: 0,
    binaryFiles: 0,
    largeFiles: 0,
    folders: 1,
    maxDepth: 1,
    symlinks: 0,
    editable: ['src/b.ts'],
    setupSeconds: 0,
  };
  for (const root of [ws.ours, ws.git]) {
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(path.join(root, 'src'), { recursive: true });
    fs.writeFileSync(path.join(root, 'README.md'), '# tiny\n');
    fs.writeFileSync(path.join(root, 'src', 'b.ts'), 'export const b = 0;\n');
    fs.writeFileSync(path.join(root, 'src', 'c.ts'), 'export const c = 0;\n');
  }
  const storeDir = path.join(ctx.tmp, 'tiny-store');
  const gitDir = path.join(ctx.tmp, 'tiny-shadow.git');
  log(`listing: creating ${n} points through the API, and ${n} commits with git fast-import`);
  const ours = await openOurs(storeDir, ws);
  const created: number[] = [];
  await ours.store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
  for (let i = 1; i < n; i++) {
    const file = path.join(ws.ours, 'src', 'b.ts');
    fs.writeFileSync(file, `export const b = ${i};\n`);
    created.push((await time(() => ours.store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] }))).ms);
  }
  await ours.store.close();
  const sg = new ShadowGit(gitDir, ws.git);
  sg.init();
  const branch = run('git', [`--git-dir=${gitDir}`, 'symbolic-ref', 'HEAD']).stdout.trim();
  let stream = '';
  for (let i = 0; i < n; i++) {
    const content = `export const b = ${i};\n`;
    stream += `commit ${branch}\nmark :${i + 1}\ncommitter Checkpoint Bench <checkpoints@example.com> ${1_700_000_000 + i} +0000\ndata ${`Checkpoint ${i}`.length}\nCheckpoint ${i}\n`;
    if (i > 0) stream += `from :${i}\n`;
    else stream += `M 100644 inline README.md\ndata 7\n# tiny\n\nM 100644 inline src/c.ts\ndata 20\nexport const c = 0;\n\n`;
    stream += `M 100644 inline src/b.ts\ndata ${content.length}\n${content}\n`;
  }
  sg.git(['fast-import', '--quiet'], { input: stream });
  const list = { ours: [] as number[], oursOpen: [] as number[], oursListOnly: [] as number[], git: [] as number[], proc: [] as number[] };
  for (let r = 0; r < ctx.rounds; r++) {
    for (let i = 0; i < ctx.iterations; i++) {
      for (const side of (r + i) % 2 === 0 ? ['ours', 'git'] : ['git', 'ours']) {
        if (side === 'ours') {
          const c = await child({ mode: 'list', storeDir, root: ws.ours });
          if (c.result.count !== n) throw new Error(`listed ${c.result.count} points, expected ${n}`);
          list.ours.push(c.result.totalMs as number);
          list.oursOpen.push(c.result.openMs as number);
          list.oursListOnly.push(c.result.listMs as number);
          list.proc.push(c.wallMs);
        } else {
          const out = sg.git(['log', '--format=%H%x09%s']);
          if (out.stdout.trim().split('\n').length !== n) throw new Error('git log listed a different number of commits');
          list.git.push(out.ms);
        }
      }
    }
  }
  const firstTen = summarize(created.slice(0, 10))!.median;
  const lastTen = summarize(created.slice(-10))!.median;
  addRow(
    ws,
    'list',
    `List ${formatCount(n)} points (fresh store object)`,
    'ms',
    list.ours,
    list.git,
    'log --format=%H%x09%s',
    `ours: RecoveryStore.open + listRecoveryPoints in a fresh process, time inside it; open ${fmtSummary(summarize(list.oursOpen), 'ms')}, listRecoveryPoints ${fmtSummary(summarize(list.oursListOnly), 'ms')}`,
  );
  addRow(ws, 'list-process', `List ${formatCount(n)} points (whole process, Node start included)`, 'ms', list.proc, list.git, 'log --format=%H%x09%s', 'wall time of the same processes');
  addRow(ws, 'list-create', `Creating point 2–${formatCount(n)} of a tiny workspace (hint)`, 'ms', created, [], '—', `median of the first 10 ${num(firstTen)} ms, of the last 10 ${num(lastTen)} ms`);
  return storeDir;
}

/**
 * What a first point costs the process it runs in: its peak above the process's own start (Node's
 * baseline), and what stays once it is made and once the clean-up that follows it is done (V8 heap
 * with the buffers outside it, and RSS, after a forced collection; the store still open, as in the extension).
 */
function addMemoryRows(ws: Workspace, peakMB: number[], settled: { point: SettledMemory[]; cleanup: SettledMemory[]; baselines: number[] }): void {
  const baseMB = settled.baselines.map((b) => b / MB);
  const base = summarize(baseMB)?.median ?? 0;
  addRow(ws, 'rss-above', 'Peak memory (RSS) above Node\'s baseline, first point', 'MB', peakMB.map((p) => p - base), [], '—', `peak RSS minus the RSS of the same process before it opened the store (${num(base)} MB; target ≤ 100 MB at 50k files)`);
  const heap = (m: SettledMemory) => (m.heapUsed + m.external) / MB;
  addRow(ws, 'heap-after-point', 'Heap after the first point (forced GC, store open)', 'MB', settled.point.map(heap), [], '—', 'V8 heap used + buffers outside it');
  addRow(ws, 'rss-after-point', 'RSS after the first point (forced GC, store open)', 'MB', settled.point.map((m) => m.rss / MB), [], '—', `${num(summarize(settled.point.map((m) => m.rss / MB - base))?.median ?? NaN)} MB above the baseline`);
  if (settled.cleanup.length > 0) {
    addRow(ws, 'heap-after-cleanup', 'Heap after the clean-up that follows (forced GC)', 'MB', settled.cleanup.map(heap), [], '—', 'V8 heap used + buffers outside it');
    addRow(ws, 'rss-after-cleanup', 'RSS after the clean-up that follows (forced GC)', 'MB', settled.cleanup.map((m) => m.rss / MB), [], '—', `${num(summarize(settled.cleanup.map((m) => m.rss / MB - base))?.median ?? NaN)} MB above the baseline`);
  }
}

/**
 * `--memory-only`: the memory of a first point of the largest synthetic workspace, ours and git's, in one
 * run; ours both ways: captured in the process that opened the store (the command-line tool), and in a
 * process of its own (the extension), measured in the caller and in the capture process.
 */
async function memoryRows(tmp: string, opts: Options): Promise<void> {
  const files = opts.sizes[opts.sizes.length - 1]!;
  log(`memory of a first point: synthetic ${formatCount(files)} files`);
  const ws = createSynthetic(tmp, files, opts.seed);
  const storeDir = path.join(tmp, 'memory-store');
  const sg = new ShadowGit(path.join(tmp, 'memory-shadow.git'), ws.git);
  const peak = { ours: [] as number[], git: [] as number[] };
  const settled = { point: [] as SettledMemory[], cleanup: [] as SettledMemory[], baselines: [] as number[] };
  const elsewhere = {
    caller: [] as number[],
    callerWithCleanup: [] as number[],
    processPeak: [] as number[],
    processAbove: [] as number[],
    cleanupPeak: [] as number[],
    point: [] as SettledMemory[],
    cleanup: [] as SettledMemory[],
    baselines: [] as number[],
    ms: [] as number[],
    inProcessMs: [] as number[],
  };
  for (let r = 0; r < opts.rounds; r++) {
    fs.rmSync(storeDir, { recursive: true, force: true });
    const c = await child({ mode: 'first-point', storeDir, root: ws.ours, cleanup: true });
    peak.ours.push((c.result.pointMaxRss as number) / MB);
    settled.baselines.push(c.result.baselineRss as number);
    settled.point.push(c.result.afterPoint as unknown as SettledMemory);
    settled.cleanup.push(c.result.afterCleanup as unknown as SettledMemory);
    elsewhere.inProcessMs.push(c.result.createMs as number);
    fs.rmSync(storeDir, { recursive: true, force: true });
    const e = await child({ mode: 'first-point', storeDir, root: ws.ours, captureScript: captureScriptOf(childBundle!), cleanup: true });
    if (e.result.pointId === undefined || e.result.fileCount !== c.result.fileCount) throw new Error(`the first point captured in a process of its own has ${e.result.fileCount} files, not ${c.result.fileCount}`);
    elsewhere.caller.push((e.result.pointMaxRss as number) / MB - (e.result.baselineRss as number) / MB);
    elsewhere.processPeak.push(e.result.processMaxRssMB as number);
    elsewhere.processAbove.push(e.result.processAboveMB as number);
    elsewhere.point.push(e.result.afterPoint as unknown as SettledMemory);
    elsewhere.cleanup.push(e.result.afterCleanup as unknown as SettledMemory);
    elsewhere.callerWithCleanup.push((e.result.cleanupMaxRss as number) / MB - (e.result.baselineRss as number) / MB);
    elsewhere.cleanupPeak.push(e.result.cleanupProcessMaxRssMB as number);
    elsewhere.baselines.push(e.result.baselineRss as number);
    elsewhere.ms.push(e.result.createMs as number);
    sg.init();
    const g = sg.checkpoint('Checkpoint 1', true);
    if (g.maxRssBytes) peak.git.push(g.maxRssBytes / MB);
    await sg.waitForAutoGc();
  }
  addRow(ws, 'rss', 'Peak memory (RSS), first point', 'MB', peak.ours, peak.git, 'max of add / commit', 'ours: the process\'s high-water mark (getrusage) right after the point, before the clean-up');
  addMemoryRows(ws, peak.ours, settled);
  const base = summarize(elsewhere.baselines.map((b) => b / MB))?.median ?? 0;
  addRow(ws, 'rss-above-elsewhere', 'Peak memory (RSS) above Node\'s baseline, first point captured in a process of its own (the caller: the extension host)', 'MB', elsewhere.caller, [], '—', `as the extension makes a store's first point; the caller's high-water mark minus its RSS before opening the store (${num(base)} MB; target ≤ 100 MB at 50k files)`);
  addRow(ws, 'rss-process', '…the capture process\'s own peak (RSS)', 'MB', elsewhere.processPeak, [], '—', `a separate Node process, all of it freed when the point is made; ${num(summarize(elsewhere.processAbove)?.median ?? NaN)} MB above its own start`);
  addRow(ws, 'rss-after-elsewhere', 'RSS of the caller after that first point (forced GC, store open)', 'MB', elsewhere.point.map((m) => m.rss / MB), [], '—', `${num(summarize(elsewhere.point.map((m) => m.rss / MB - base))?.median ?? NaN)} MB above the baseline; heap + buffers ${num(summarize(elsewhere.point.map((m) => (m.heapUsed + m.external) / MB))?.median ?? NaN)} MB (the capture cache read back)`);
  addRow(ws, 'rss-above-cleanup-elsewhere', '…the caller\'s peak above its baseline, the clean-up that follows included (its repacking in a process of its own too)', 'MB', elsewhere.callerWithCleanup, [], '—', `the clean-up process's own peak ${num(summarize(elsewhere.cleanupPeak)?.median ?? NaN)} MB`);
  addRow(ws, 'rss-after-cleanup-elsewhere', 'RSS of the caller after that clean-up (forced GC)', 'MB', elsewhere.cleanup.map((m) => m.rss / MB), [], '—', `${num(summarize(elsewhere.cleanup.map((m) => m.rss / MB - base))?.median ?? NaN)} MB above the baseline; heap + buffers ${num(summarize(elsewhere.cleanup.map((m) => (m.heapUsed + m.external) / MB))?.median ?? NaN)} MB`);
  addRow(ws, 'time-elsewhere', 'First point captured in a process of its own (time)', 'ms', elsewhere.ms, elsewhere.inProcessMs, 'ours in the calling process', 'createRecoveryPoint in the caller, the process\'s start included; the git column is our capture in the calling process, same rounds');
}

async function restoreOnlyRows(tmp: string, opts: Options): Promise<void> {
  const files = opts.sizes[opts.sizes.length - 1]!;
  const r = await restoreOnly({ tmp, files, seed: opts.seed, rounds: opts.rounds, against: opts.against, saved: opts.restoreSaved, repo: ROOT, log });
  const wall = (samples: readonly RestoreSample[]) => samples.map((x) => x.ms);
  const cpu = (samples: readonly RestoreSample[]) => samples.map((x) => x.cpuMs);
  const modes = opts.restoreSaved
    ? `the edits saved in a point (and committed in git) first, then the extension's idle time, untimed; safety point in hint mode over the planned paths (${r.safetyModes.hint} of ${r.safetyModes.hint + r.safetyModes.full} in hint mode)`
    : `safety point in hint mode over the edited and planned paths (${r.safetyModes.hint} of ${r.safetyModes.hint + r.safetyModes.full} in hint mode)`;
  addRow(r.ws, 'restore', 'Restore a point 100 files away', 'ms', wall(r.ours), r.git, 'reset --hard <commit>', `ours: ${modes}; this code and git bundled/run in the same rounds`);
  addRow(r.ws, 'restore-cpu', '…ours: CPU time (main thread and thread pool)', 'ms', cpu(r.ours), r.git, 'reset --hard <commit> (wall)', 'process.cpuUsage() around the restore');
  if (opts.against) {
    const at = opts.against.slice(0, 12);
    addRow(r.ws, 'restore-old', `…the same with the core at ${at}`, 'ms', wall(r.old), r.git, 'reset --hard <commit>', 'on a third copy of the workspace, in the same rounds');
    addRow(r.ws, 'restore-vs-old', '…this code against that commit, wall', 'ms', wall(r.ours), wall(r.old), `ours at ${at}`, 'ratio: this code / that commit');
    addRow(r.ws, 'restore-vs-old-cpu', '…this code against that commit, CPU', 'ms', cpu(r.ours), cpu(r.old), `ours at ${at}`, 'ratio: this code / that commit');
  }
}

/** The cost of an `await` elsewhere in the process, before the store is opened and after its points (a fresh process, a store of its own). */
async function awaitCostRows(ws: Workspace, tmp: string): Promise<void> {
  const storeDir = path.join(tmp, 'await-cost-store');
  fs.rmSync(storeDir, { recursive: true, force: true });
  const c = await child({ mode: 'await-cost', storeDir, root: ws.ours, edits: [ws.editable[0]!] });
  fs.rmSync(storeDir, { recursive: true, force: true });
  addRow(ws, 'await-after', 'An `await` elsewhere in the process, after a first point and a hint point', 'ns', [c.result.awaitAfterNs as number], [], '—',
    `what every other extension in an extension host pays per await; before the store was opened ${num(c.result.awaitBeforeNs as number)} ns, inside one of its locked operations ${num(c.result.awaitInsideNs as number)} ns (median of 5 × 200,000, a fresh process)`);
}

async function hintOnlyRows(tmp: string, opts: Options): Promise<void> {
  const files = opts.sizes[opts.sizes.length - 1]!;
  const r = await hintOnly({ tmp, files, seed: opts.seed, rounds: opts.rounds, iterations: opts.iterations, against: opts.against, repo: ROOT, log });
  const wall = (samples: readonly RestoreSample[]) => samples.map((x) => x.ms);
  const cpu = (samples: readonly RestoreSample[]) => samples.map((x) => x.cpuMs);
  addRow(r.ws, 'one-hint', 'One-file point, path given as a hint', 'ms', wall(r.ours), r.git, 'add -A && commit', 'this code and git in the same rounds');
  addRow(r.ws, 'one-hint-cpu', '…ours: CPU time (main thread and thread pool)', 'ms', cpu(r.ours), r.git, 'add -A && commit (wall)', 'process.cpuUsage() around the point');
  const faults = (samples: readonly RestoreSample[]) => samples.map((x) => x.faults ?? Number.NaN);
  addRow(r.ws, 'one-hint-faults', '…ours: page faults of this process during the point', 'faults', faults(r.ours), [], '—', 'minor faults (process.resourceUsage()): after a fork (git, sync) every page written is copied on its first write');
  addRow(r.ws, 'one-hint-elsewhere', '…git and `sync` started by another process (this one not forked between points)', 'ms', wall(r.oursElsewhere), r.gitElsewhere, 'add -A && commit', 'the same edits and turns; git timed in that process (bench/lib/runnerElsewhere.ts)');
  addRow(r.ws, 'one-hint-elsewhere-faults', '…ours: page faults of this process during the point', 'faults', faults(r.oursElsewhere), [], '—', 'as above, without the forks');
  if (opts.against) {
    const at = opts.against.slice(0, 12);
    addRow(r.ws, 'one-hint-old', `…the same with the core at ${at}`, 'ms', wall(r.old), r.git, 'add -A && commit', 'on a copy of the workspace, in the same rounds');
    addRow(r.ws, 'one-hint-vs-old', '…this code against that commit, wall', 'ms', wall(r.ours), wall(r.old), `ours at ${at}`, 'ratio: this code / that commit');
    addRow(r.ws, 'one-hint-vs-old-cpu', '…this code against that commit, CPU', 'ms', cpu(r.ours), cpu(r.old), `ours at ${at}`, 'ratio: this code / that commit');
  }
  await awaitCostRows(r.ws, tmp);
}

async function cliOnlyRows(tmp: string, opts: Options): Promise<void> {
  const files = opts.sizes[opts.sizes.length - 1]!;
  const r = await cliOnly({ tmp, files, seed: opts.seed, rounds: opts.rounds, iterations: opts.iterations, against: opts.against, repo: ROOT, log });
  const at = opts.against?.slice(0, 12);
  const gitCommands: Record<string, string> = { 'snapshot --changed': 'add -A && commit', list: 'log --oneline', show: 'diff-tree --name-status -r HEAD', diff: 'diff --name-status HEAD' };
  for (const command of CLI_COMMANDS) {
    const by = r.samples[command];
    const wall = (side: string) => (by[side] ?? []).map((x) => x.ms);
    const cpu = (side: string) => (by[side] ?? []).map((x) => x.cpuMs).filter((x) => !Number.isNaN(x));
    const plain = command.replace(/ via helper$/, '');
    const key = `cli-${plain.split(' ')[0]}${viaHelper(command) ? '-helper' : ''}`;
    const gitCommand = gitCommands[plain] ?? '—';
    const shown =
      command === 'node -e 0' ? '`node -e 0` (Node\'s own start)'
      : command === 'hook via helper' ? '`bash dist/hook-client.sh NODE dist/cli.js hook` (resident helper running)'
      : viaHelper(command) ? `\`dist/recovery-points ${plain}\` (resident helper running)`
      : `\`node dist/cli.js ${command}\``;
    addRow(r.ws, key, `Whole process: ${shown}`, 'ms', wall('ours'), wall('git'), gitCommand, 'wall time, this code');
    addRow(r.ws, `${key}-cpu`, '…CPU time (user + system of the process)', 'ms', cpu('ours'), cpu('git'), gitCommand === 'add -A && commit' ? '— (two processes)' : gitCommand, '/usr/bin/time');
    if (at && by.old) {
      addRow(r.ws, `${key}-vs-old`, `…this code against ${at}, wall`, 'ms', wall('ours'), wall('old'), `ours at ${at}`, 'ratio: this code / that commit, in the same rounds');
      addRow(r.ws, `${key}-vs-old-cpu`, `…this code against ${at}, CPU`, 'ms', cpu('ours'), cpu('old'), `ours at ${at}`, 'ratio: this code / that commit');
    }
  }
}

// ── search over the history ───────────────────────────────────────────────

async function searchRows(tmp: string, opts: Options): Promise<void> {
  const megabytes = opts.quick ? 20 : 100;
  // the editor's way: in a worker thread (dist/searchWorker.js), bundled as the build bundles it
  const worker = await bundleSearchWorker(tmp);
  const r = await benchHistorySearch(tmp, { megabytes, generations: 4, rounds: opts.quick ? 2 : opts.rounds, seed: opts.seed, log, worker });
  const ws = { label: `history search (${num(r.megabytes)} MB of distinct text, ${formatCount(r.versions)} versions in ${r.points} points)`, files: r.versions } as Workspace;
  const note = `searchHistory in-process, store repacked; resident memory ${num(r.rssStartMB)} MB before, ${num(r.rssPeakMB)} MB at most during the searches`;
  addRow(ws, 'search-first', 'Search, first result (plain text, any case)', 'ms', r.first, [], '—', `${r.hits} matching versions; ${note}`);
  addRow(ws, 'search-total', 'Search, whole store (plain text, any case)', 'ms', r.total, [], '—', 'every distinct version read, decompressed, hash-checked and searched once');
  addRow(ws, 'search-cpu', 'Search, whole store: CPU time (plain text, any case)', 'ms', r.cpu, [], '—', 'user + system CPU of the same searches: the one-core cost, whatever else the machine runs');
  addRow(ws, 'search-regex', 'Search, whole store (regular expression, case-sensitive)', 'ms', r.regexTotal, [], '—', '');
  addRow(ws, 'search-slice', 'Search: longest hold of the main thread (plain text)', 'ms', r.longestSlice, [], '—', 'in process (the tool, MCP): the event loop\'s longest delay during each search (monitorEventLoopDelay, 1 ms resolution): what the editor would wait at most');
  if (!r.longestTurnCpu.some(Number.isNaN)) addRow(ws, 'search-slice-cpu', 'Search: most CPU of the main thread in one turn (plain text)', 'ms', r.longestTurnCpu, [], '—', 'in process: the main thread\'s CPU (/proc/thread-self/schedstat) between two turns of a 1 ms timer, which load does not stretch (resolution: up to a scheduler tick, 4 ms here)');
  if (r.worker) {
    const how = 'the editor\'s way: a worker thread started for each search (dist/searchWorker.js), interleaved with the in-process searches; a full GC of the process before each search';
    addRow(ws, 'search-worker-first', 'Search in a worker thread, first result (plain text; the worker\'s start included)', 'ms', r.worker.first, [], '—', `${r.worker.hits} matching versions; ${how}`);
    addRow(ws, 'search-worker-total', 'Search in a worker thread, whole store (plain text)', 'ms', r.worker.total, [], '—', '');
    addRow(ws, 'search-worker-cpu', 'Search in a worker thread: CPU time of the process, both threads (plain text)', 'ms', r.worker.cpu, [], '—', 'user + system CPU of the whole process (Node 20 has no per-thread CPU)');
    addRow(ws, 'search-worker-slice', 'Search in a worker thread: longest hold of the main thread (plain text)', 'ms', r.worker.longestSlice, [], '—', `the main event loop's longest delay during each search (monitorEventLoopDelay, 1 ms resolution): what the editor waits at most; major GCs of the main thread per search: ${r.worker.majorGcs.join(', ')} (in process: ${r.majorGcs.join(', ')})`);
    if (!r.worker.longestTurnCpu.some(Number.isNaN)) addRow(ws, 'search-worker-slice-cpu', 'Search in a worker thread: most CPU of the main thread in one turn (plain text)', 'ms', r.worker.longestTurnCpu, [], '—', 'the same probe as above, the search in a worker');
  }
}

// ── a long history ────────────────────────────────────────────────────────

async function longHistoryRows(tmp: string, opts: Options): Promise<void> {
  const files = opts.sizes[opts.sizes.length - 1]!;
  const storeDir = path.join(tmp, 'long-history-store');
  const editsPerPoint = 60;
  // With --tmp DIR --keep, the grown store and its workspace are kept and a later run with the same
  // sizes measures them again without growing (growing takes most of the run and need not be quiet).
  const kept = path.join(tmp, `long-history-${files}-${opts.longHistory}-${opts.seed}.json`);
  let ws: Workspace;
  let grown: LongHistorySamples;
  if (opts.keep && fs.existsSync(kept) && fs.existsSync(storeDir)) {
    ({ ws, grown } = JSON.parse(fs.readFileSync(kept, 'utf8')) as { ws: Workspace; grown: LongHistorySamples });
    log(`long history: measuring the store kept in ${storeDir} (${formatCount(grown.points)} points; not grown again)`);
  } else {
    ws = createSynthetic(tmp, files, opts.seed);
    fs.rmSync(storeDir, { recursive: true, force: true });
    log(`long history: ${formatCount(opts.longHistory)} points of the ${formatCount(files)}-file workspace, ${editsPerPoint} files edited per point, a clean-up every 100`);
    grown = await growLongHistory(ws, storeDir, { points: opts.longHistory, editsPerPoint, cleanupEvery: 100, rounds: opts.rounds, seed: opts.seed, log });
    if (opts.keep) fs.writeFileSync(kept, JSON.stringify({ ws, grown }));
  }
  const label = { ...ws, label: `long history (${formatCount(files)} files, ${formatCount(grown.points)} points, ${formatCount(grown.objects)} objects in ${grown.packs} packs, ${num(grown.storeMB)} MB; grown in ${num(grown.growSeconds)} s)` };
  const cold = { open: [] as number[], list: [] as number[], heap: [] as number[], proc: [] as number[] };
  for (let i = 0; i < opts.rounds * opts.iterations; i++) {
    const c = await child({ mode: 'list', storeDir, root: ws.ours });
    cold.open.push(c.result.openMs as number);
    cold.list.push(c.result.listMs as number);
    cold.heap.push((c.result.heapOpenMB as number) - (c.result.heapBeforeMB as number));
    cold.proc.push(c.wallMs);
  }
  // a point's changes, as `show latest` reads them in a fresh process: what the open store reads for one point, and what it then holds
  const changes = { ms: [] as number[], heap: [] as number[], count: 0 };
  for (let i = 0; i < opts.rounds * opts.iterations; i++) {
    const c = await child({ mode: 'changed-files', storeDir, root: ws.ours, pointId: 'newest' });
    changes.ms.push(c.result.changedMs as number);
    changes.heap.push((c.result.heapAfterMB as number) - (c.result.heapBeforeMB as number));
    changes.count = c.result.count as number;
  }
  // a one-file point in a fresh process: an agent's hook, the helper's first point, a new window's
  const coldPoint = { ms: [] as number[], heap: [] as number[] };
  for (let i = 0; i < opts.rounds * opts.iterations; i++) {
    const c = await child({ mode: 'one-file-point', storeDir, root: ws.ours, edits: [ws.editable[i % ws.editable.length]!] });
    coldPoint.ms.push(c.result.pointMs as number);
    coldPoint.heap.push((c.result.heapAfterMB as number) - (c.result.heapBeforeMB as number));
  }
  const points = await oneFilePoints(ws, storeDir, opts.rounds * opts.iterations, opts.seed);
  addRow(label, 'long-open', 'Open the store (fresh process)', 'ms', cold.open, [], '—', 'RecoveryStore.open in a fresh process, time inside it (target ≤ 20 ms)');
  addRow(label, 'long-list', `List ${formatCount(grown.points)} points (fresh process)`, 'ms', cold.list, [], '—', 'listRecoveryPoints right after the open above (target ≤ 50 ms)');
  addRow(label, 'long-heap', 'Memory of an open store that listed its points', 'MB', cold.heap, [], '—', 'V8 heap and buffers after a forced collection, minus the same before the open (target: heap ≤ 50 MB)');
  addRow(label, 'long-process', 'Open and list (whole process, Node start included)', 'ms', cold.proc, [], '—', '');
  addRow(label, 'long-changes', "The newest point's changes (fresh process)", 'ms', changes.ms, [], '—', `changedFiles(newest) after the open and a listing, time inside the process (${formatCount(changes.count)} ${changes.count === 1 ? "file" : "files"} changed)`);
  addRow(label, 'long-changes-heap', "Memory of an open store that read a point's changes", 'MB', changes.heap, [], '—', 'V8 heap and buffers after a forced collection, minus the same before the open');
  addRow(label, 'long-point', 'One-file point with the save hint, open store', 'ms', points, [], '—', 'after one untimed point (target ≤ 15 ms)');
  addRow(label, 'long-point-cold', 'One-file point with the save hint (fresh process)', 'ms', coldPoint.ms, [], '—', "the store opened, its points listed and the point made, time inside the process: an agent's hook, the helper's first point, a new window's");
  addRow(label, 'long-point-cold-heap', 'Memory of an open store that made a one-file point', 'MB', coldPoint.heap, [], '—', 'V8 heap and buffers after a forced collection, minus the same before the open');
  addRow(label, 'long-cleanup', 'Collection while growing (every 100 points; repacks, removes nothing)', 'ms', grown.cleanupMs, [], '—', 'collectGarbage(), as a clean-up runs it in the background (the lock held only in slices)');
}

// ── a file's history ───────────────────────────────────────────────────────

/** `--history-only`: the file history rows of the primary synthetic workspace, in this process. */
async function historyRows(tmp: string, files: number, opts: Options): Promise<void> {
  log(`generating the synthetic workspace: ${formatCount(files)} files`);
  const ws = createSynthetic(tmp, files, opts.seed);
  await benchHistory(ws, { opts, tmp, primary: true, full: true, coldRounds: opts.rounds, rounds: opts.rounds, iterations: opts.iterations });
}

async function benchHistory(ws: Workspace, ctx: Context): Promise<void> {
  const n = ctx.opts.listPoints;
  const storeDir = path.join(ctx.tmp, 'history-store');
  log(`file history: ${formatCount(n)} points of the ${formatCount(ws.files)}-file workspace, every fifth editing one file`);
  const s = await benchFileHistory(ws, storeDir, n, ctx.rounds * ctx.iterations);
  addRow(
    ws,
    'file-history',
    `File history of ${s.versions} versions (${formatCount(n)} points), open store`,
    'ms',
    s.openMs,
    [],
    '—',
    `readFileHistory as the File History view lists a file; CPU ${num(s.openCpuMs)} ms on average; the first listing after opening the store (no tree read yet) ${num(s.firstMs)} ms; making the points took ${num(s.setupSeconds)} s`,
  );
  // In fresh processes (nothing read yet, no line counted): what a new window pays for its first listing, and for opening the first point's changes.
  const points = await (async () => {
    const store = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: ws.ours }], actor: 'bench' });
    try {
      return await store.recovery.listRecoveryPoints();
    } finally {
      await store.close();
    }
  })();
  const firstPoint = points[points.length - 1]!;
  const cold = { history: [] as number[], historyCpu: [] as number[], changes: [] as number[], changesCpu: [] as number[], historyTurn: [] as number[], historyTurnCpu: [] as number[], changesTurn: [] as number[], changesTurnCpu: [] as number[] };
  for (let i = 0; i < Math.max(3, ctx.rounds); i++) {
    const h = await child({ mode: 'file-history', storeDir, root: ws.ours, path: `ws/${ws.editable[0]!}` });
    if (h.result.count !== s.versions) throw new Error(`the first listing in a fresh process found ${h.result.count} versions, not ${s.versions}`);
    cold.history.push(h.result.historyMs as number);
    cold.historyCpu.push(h.result.historyCpuMs as number);
    const c = await child({ mode: 'changed-files', storeDir, root: ws.ours, pointId: firstPoint.id });
    if (c.result.count !== firstPoint.fileCount) throw new Error(`the first point's changes listed ${c.result.count} files, not ${firstPoint.fileCount}`);
    cold.changes.push(c.result.changedMs as number);
    cold.changesCpu.push(c.result.changedCpuMs as number);
    // the same again, for the longest time the event loop is held (an extension host shares its thread)
    const ht = await child({ mode: 'file-history', storeDir, root: ws.ours, path: `ws/${ws.editable[0]!}`, slices: true });
    cold.historyTurn.push(ht.result.longestTurnMs as number);
    cold.historyTurnCpu.push(ht.result.longestTurnCpuMs as number);
    const ct = await child({ mode: 'changed-files', storeDir, root: ws.ours, pointId: firstPoint.id, slices: true });
    cold.changesTurn.push(ct.result.longestTurnMs as number);
    cold.changesTurnCpu.push(ct.result.longestTurnCpuMs as number);
  }
  const cpu = (samples: number[]) => num(samples.reduce((a, b) => a + b, 0) / samples.length);
  addRow(ws, 'file-history-cold', `File history of ${s.versions} versions (${formatCount(n)} points), first listing in a fresh process`, 'ms', cold.history, [], '—', `store opened and points listed first; CPU ${cpu(cold.historyCpu)} ms on average`);
  addRow(ws, 'point-changes-first', `A point's changes opened (first point, ${formatCount(firstPoint.fileCount)} files), fresh process`, 'ms', cold.changes, [], '—', `changedFiles(first point) after opening the store; CPU ${cpu(cold.changesCpu)} ms on average`);
  const turnNote = 'the longest gap between two turns of the event loop (a setImmediate loop), wall; in CPU time (descheduling left out, GC and thread-pool threads in)';
  addRow(ws, 'file-history-turn', 'First listing in a fresh process: longest turn held', 'ms', cold.historyTurn, [], '—', `${turnNote} ${num(Math.max(...cold.historyTurnCpu))} ms at most (target ~10 ms)`);
  addRow(ws, 'point-changes-turn', 'First point\'s changes in a fresh process: longest turn held', 'ms', cold.changesTurn, [], '—', `points listed first; ${turnNote} ${num(Math.max(...cold.changesTurnCpu))} ms at most (target ~10 ms)`);
  fs.rmSync(storeDir, { recursive: true, force: true });
}

// ── profiles and system calls of our side ─────────────────────────────────

async function runProfiles(primary: PrimaryState, ctx: Context): Promise<void> {
  const dir = path.join(ROOT, 'bench-results', 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const edits = primary.ws.editable.slice(-120);
  const scenarios: Array<{ title: string; request: ChildRequest; per: number }> = [
    { title: 'One-file point with hint (×20)', request: { mode: 'scenario', scenario: 'hint-point', storeDir: primary.storeDir, root: primary.ws.ours, edits, repeat: 20 }, per: 20 },
    { title: 'One-file point, full check (×5)', request: { mode: 'scenario', scenario: 'full-point', storeDir: primary.storeDir, root: primary.ws.ours, edits, repeat: 5 }, per: 5 },
    { title: 'Restore a point 100 files away (×3)', request: { mode: 'scenario', scenario: 'restore-100', storeDir: primary.storeDir, root: primary.ws.ours, edits: edits.slice(0, 100), repeat: 3 }, per: 3 },
    { title: 'First point (cold)', request: { mode: 'scenario', scenario: 'first-point', storeDir: path.join(ctx.tmp, 'profile-first-store'), root: primary.ws.ours, repeat: 1 }, per: 1 },
  ];
  if (primary.listStoreDir) {
    scenarios.push({ title: `List ${formatCount(ctx.opts.listPoints)} points, fresh store object (×10)`, request: { mode: 'scenario', scenario: 'list', storeDir: primary.listStoreDir, root: path.join(ctx.tmp, 'tiny-ours'), repeat: 10 }, per: 10 });
  }
  const hasStrace = fs.existsSync('/usr/bin/strace');
  for (const s of scenarios) {
    log(`profile: ${s.title}`);
    const profDir = path.join(dir, `${stamp}-${s.request.scenario}`);
    const r = await runAsync(process.execPath, ['--import', 'tsx', '--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=250', path.join(__dirname, 'child.ts'), JSON.stringify(s.request)], { cwd: ROOT });
    countChildWarnings(r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { windowStartUs: number; windowEndUs: number; times: number[] };
    const file = path.join(profDir, fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!);
    const summary = summarizeProfile(file, out.windowStartUs, out.windowEndUs);
    let syscalls: Array<{ group: string; calls: number }> | undefined;
    if (hasStrace) {
      if (s.request.scenario === 'first-point') fs.rmSync(s.request.storeDir, { recursive: true, force: true });
      const straceLog = path.join(profDir, 'strace.log');
      try {
        await runAsync('strace', ['-f', '-qq', '-y', '-o', straceLog, process.execPath, childBundle!, JSON.stringify(s.request)]);
        syscalls = syscallGroups(countSyscalls(straceLog, MARK_START, MARK_END), s.per);
      } catch (error) {
        log(`  strace failed: ${String(error).slice(0, 200)}`);
      }
      fs.rmSync(straceLog, { force: true });
    }
    profiles.push({ title: `${s.title} — ${fmtSummary(summarize(out.times), 'ms')} per operation under the profiler (${path.relative(ROOT, file)})`, summary, syscalls });
  }
}

// ── targets ─────────────────────────────────────────────────────────────────

/** A row of the synthetic workspace with `files` files (not the real-code or tiny workspaces). */
function findRow(key: string, files: number): Row | undefined {
  return rows.find((r) => r.key === key && r.files === files && r.workspace.startsWith('synthetic'));
}

function evaluateTargets(primaryFiles: number, listPoints: number, pointsInRow: number): Target[] {
  const t: Target[] = [];
  const at = `${formatCount(primaryFiles)} files`;
  const hint = findRow('one-hint', primaryFiles);
  if (hint?.ours && hint.git) {
    const speedup = hint.git.median / hint.ours.median;
    t.push({ target: `One-file point with hint ≥ 20× faster than git add+commit (${at})`, measured: `${num(speedup)}× (ours ${num(hint.ours.median)} ms, git ${num(hint.git.median)} ms)`, met: speedup >= 20 });
    t.push({ target: `One-file point with hint < 15 ms (${at})`, measured: `${num(hint.ours.median)} ms median (${num(hint.ours.min)}–${num(hint.ours.max)})`, met: hint.ours.median < 15 });
  }
  const full = findRow('one-full', primaryFiles);
  if (full?.ours && full.git) {
    const speedup = full.git.median / full.ours.median;
    t.push({ target: `One-file point without hint ≥ 2× faster than git (${at})`, measured: `${num(speedup)}× (ours ${num(full.ours.median)} ms, git ${num(full.git.median)} ms)`, met: speedup >= 2 });
  }
  const hookRow = findRow('hook-process', primaryFiles);
  if (hookRow?.ours && hookRow.git) {
    const ratio = hookRow.ours.median / hookRow.git.median;
    t.push({ target: `Agent hook (whole process) ≤ 0.5× git add+commit and ≤ 100 ms (${at})`, measured: `ours ${num(hookRow.ours.median)} ms, git ${num(hookRow.git.median)} ms (ratio ${num(ratio)})`, met: ratio <= 0.5 && hookRow.ours.median <= 100 });
  }
  const helperRow = findRow('hook-helper', primaryFiles);
  if (helperRow?.ours && helperRow.git) {
    const ratio = helperRow.ours.median / helperRow.git.median;
    t.push({ target: `Agent hook through the resident helper (whole process) ≤ 0.5× git add+commit and ≤ 100 ms (${at})`, measured: `ours ${num(helperRow.ours.median)} ms, git ${num(helperRow.git.median)} ms (ratio ${num(ratio)})`, met: ratio <= 0.5 && helperRow.ours.median <= 100 });
  }
  const first = findRow('first', primaryFiles);
  if (first?.ours && first.git) t.push({ target: `First point no slower than git (${at})`, measured: `ours ${num(first.ours.median)} ms, git ${num(first.git.median)} ms (ratio ${num(first.ours.median / first.git.median)})`, met: first.ours.median <= first.git.median });
  const size = findRow('size-first', primaryFiles);
  if (size?.ours && size.git) {
    const gc = size.note?.includes('after its automatic gc') ? 'git after its automatic gc' : 'git did not gc (loose objects)';
    const repacked = findRow('size-first-repacked', primaryFiles);
    const ours = repacked?.ours ?? size.ours;
    const how = repacked?.ours ? `ours after the clean-up the extension runs after it (${num(size.ours.median)} MB right after the point)` : 'ours right after the point';
    t.push({ target: `Store after the first point ≤ shadow git size (${at})`, measured: `ours ${num(ours.median)} MB, git ${num(size.git.median)} MB (${how}; ${gc})`, met: ours.median <= size.git.median });
  }
  const growth = findRow('row-growth', primaryFiles);
  if (growth?.ours && growth.git) t.push({ target: `Growth over ${pointsInRow} one-file points ≤ git's (${at})`, measured: `ours ${num(growth.ours.median)} MB, git ${num(growth.git.median)} MB`, met: growth.ours.median <= growth.git.median });
  const restore = findRow('restore', primaryFiles);
  if (restore?.ours && restore.git) {
    const r = restore.ours.median / restore.git.median;
    t.push({ target: `Restore of a point 100 files away ≤ 1.5× git reset --hard, safety point included (${at})`, measured: `ours ${num(restore.ours.median)} ms with the watcher's hint, git ${num(restore.git.median)} ms (ratio ${num(r)})`, met: r <= 1.5 });
  }
  const saved = findRow('restore-saved', primaryFiles);
  if (saved?.ours && saved.git) {
    const r = saved.ours.median / saved.git.median;
    t.push({ target: `…the same when the edits are already in a point (${at})`, measured: `ours ${num(saved.ours.median)} ms, git ${num(saved.git.median)} ms (ratio ${num(r)})`, met: r <= 1.5 });
  }
  const list = rows.find((r) => r.key === 'list');
  if (list?.ours) t.push({ target: `Listing ${formatCount(listPoints)} points < 50 ms`, measured: `${num(list.ours.median)} ms median, fresh store object (git log ${num(list.git?.median ?? NaN)} ms)`, met: listPoints >= 1000 ? list.ours.median < 50 : null });
  const searchFirst = rows.find((r) => r.key === 'search-first');
  const searchTotal = rows.find((r) => r.key === 'search-total');
  if (searchFirst?.ours && searchTotal?.ours) {
    t.push({ target: 'Search over 100 MB of distinct text: first results ≤ 300 ms', measured: `${num(searchFirst.ours.median)} ms median`, met: searchFirst.ours.median <= 300 });
    t.push({ target: 'Search over 100 MB of distinct text: whole search ≤ 2 s', measured: `${num(searchTotal.ours.median)} ms median`, met: searchTotal.ours.median <= 2000 });
    const slice = rows.find((r) => r.key === 'search-slice');
    if (slice?.ours) t.push({ target: 'Search in process (the tool, MCP): the main thread held ≤ ~10 ms at a time', measured: `${num(slice.ours.median)} ms median of each search's longest (${num(slice.ours.max)} at most)`, met: slice.ours.max <= 12 });
  }
  const workerFirst = rows.find((r) => r.key === 'search-worker-first');
  const workerTotal = rows.find((r) => r.key === 'search-worker-total');
  const workerSlice = rows.find((r) => r.key === 'search-worker-slice');
  if (workerFirst?.ours && workerTotal?.ours && workerSlice?.ours) {
    t.push({ target: 'Search in the editor (a worker thread): first results ≤ 300 ms, the worker\'s start included', measured: `${num(workerFirst.ours.median)} ms median`, met: workerFirst.ours.median <= 300 });
    t.push({ target: 'Search in the editor (a worker thread): whole search ≤ 2 s', measured: `${num(workerTotal.ours.median)} ms median`, met: workerTotal.ours.median <= 2000 });
    t.push({ target: 'Search in the editor (a worker thread): the main thread held ≤ ~10 ms at a time', measured: `${num(workerSlice.ours.median)} ms median of each search's longest (${num(workerSlice.ours.max)} at most)`, met: workerSlice.ours.max <= 12 });
  }
  const history = findRow('file-history', primaryFiles);
  if (history?.ours) t.push({ target: `A file's history of 200 versions listed ≤ 50 ms on an open store (${at}, ${formatCount(listPoints)} points)`, measured: `${num(history.ours.median)} ms median`, met: listPoints >= 1000 ? history.ours.median <= 50 : null });
  const historyCold = findRow('file-history-cold', primaryFiles);
  if (historyCold?.ours) t.push({ target: `A file's history of 200 versions listed ≤ 50 ms, first listing after the store is opened (${at}, ${formatCount(listPoints)} points)`, measured: `${num(historyCold.ours.median)} ms median, fresh process`, met: listPoints >= 1000 ? historyCold.ours.median <= 50 : null });
  const firstChanges = findRow('point-changes-first', primaryFiles);
  if (firstChanges?.ours) t.push({ target: `A point's changes opened ≤ 100 ms (first point, ${at})`, measured: `${num(firstChanges.ours.median)} ms median, fresh process`, met: firstChanges.ours.median <= 100 });
  const cliRow = findRow('cli-changed', primaryFiles);
  if (cliRow?.ours && cliRow.git) {
    const r = cliRow.ours.median / cliRow.git.median;
    t.push({ target: `Command-line one-file point (whole process) ≤ 0.5× git add+commit and ≤ 100 ms (${at})`, measured: `ours ${num(cliRow.ours.median)} ms, git ${num(cliRow.git.median)} ms (ratio ${num(r)})`, met: r <= 0.5 && cliRow.ours.median <= 100 });
  }
  const cliHelperRow = findRow('cli-changed-helper', primaryFiles);
  if (cliHelperRow?.ours && cliHelperRow.git) {
    const r = cliHelperRow.ours.median / cliHelperRow.git.median;
    t.push({ target: `Command-line one-file point through the resident helper (\`dist/recovery-points\`, whole process) ≤ 0.5× git add+commit and ≤ 100 ms (${at})`, measured: `ours ${num(cliHelperRow.ours.median)} ms, git ${num(cliHelperRow.git.median)} ms (ratio ${num(r)})`, met: r <= 0.5 && cliHelperRow.ours.median <= 100 });
  }
  for (const read of HELPER_READS) {
    const row = findRow(read.key, primaryFiles);
    if (!row?.ours || !row.git) continue;
    const r = row.ours.median / row.git.median;
    t.push({ target: `${read.what} through the resident helper (\`dist/recovery-points\`, whole process) no slower than \`git ${read.git.join(' ')}\` (${at})`, measured: `ours ${num(row.ours.median)} ms, git ${num(row.git.median)} ms (ratio ${num(r)})`, met: r <= 1 });
  }
  const media = rows.find((r) => r.key === 'first' && r.workspace.startsWith('media'));
  if (media?.ours && media.git) {
    const r = media.ours.median / media.git.median;
    t.push({ target: `First point ≤ 0.5× git on a real repository's byte mix (${media.workspace})`, measured: `ours ${num(media.ours.median)} ms, git ${num(media.git.median)} ms (ratio ${num(r)})`, met: r <= 0.5 });
  }
  const above = findRow('rss-above', 50000);
  if (above?.ours) t.push({ target: 'Peak memory of a first point of 50k files ≤ 100 MB above Node\'s baseline', measured: `${num(above.ours.median)} MB above the baseline (captured in the process that opened the store, as the command-line tool does)`, met: above.ours.median <= 100 });
  const elsewhere = findRow('rss-above-elsewhere', 50000);
  if (elsewhere?.ours) t.push({ target: '…the same as the extension makes it (captured in a process of its own)', measured: `${num(elsewhere.ours.median)} MB above the extension host's baseline`, met: elsewhere.ours.median <= 100 });
  const long: Array<[string, string, number, string]> = [
    ['long-open', 'Long history: open the store ≤ 20 ms', 20, 'ms'],
    ['long-list', 'Long history: list the points ≤ 50 ms', 50, 'ms'],
    ['long-point', 'Long history: a one-file point ≤ 15 ms', 15, 'ms'],
    ['long-heap', 'Long history: memory of an open store ≤ 50 MB', 50, 'MB'],
    ['long-changes-heap', "Long history: memory of an open store that read a point's changes ≤ 50 MB", 50, 'MB'],
  ];
  for (const [key, target, limit, unit] of long) {
    const row = rows.find((r) => r.key === key);
    if (row?.ours) t.push({ target: `${target} (${row.workspace})`, measured: `${num(row.ours.median)} ${unit} median`, met: row.ours.median <= limit });
  }
  const rss = findRow('rss', 50000);
  t.push(
    rss?.ours
      ? { target: 'Peak memory of a first point of 50k files < 300 MB', measured: `${num(rss.ours.median)} MB (git ${num(rss.git?.median ?? NaN)} MB)`, met: rss.ours.median < 300 }
      : { target: 'Peak memory of a first point of 50k files < 300 MB', measured: 'not measured in this run (add 50000 to --sizes)', met: null },
  );
  return t;
}

// ── output ─────────────────────────────────────────────────────────────────

function fmtRatioCell(row: Row): string {
  const r = ratio(row.ours, row.git);
  if (r === null) return '—';
  const s = r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r >= 0.1 ? r.toFixed(2) : r.toFixed(3);
  if (row.unit === 'ms') return r < 1 ? `**${s}** (${num(1 / r)}× faster)` : `**${s}** (${num(r)}× slower)`;
  return r <= 1 ? `**${s}** (${num(1 / r)}× smaller)` : `**${s}** (${num(r)}× larger)`;
}

function renderMarkdown(machine: MachineInfo, opts: Options, targets: Target[], totalSeconds: number): string {
  const out: string[] = [];
  out.push(`### Machine`, '');
  out.push(`- ${machine.cores} cores, ${machine.cpuModel} (${machine.cpuMHz} MHz), ${machine.platform}, kernel ${machine.kernel}`);
  out.push(`- Node ${machine.node}, git ${machine.git}`);
  out.push(`- A page's first write: ${num(machine.pageWrite.afterForkUs)} µs after the process forked (copy on write), ${num(machine.pageWrite.freshUs)} µs in new memory, ${num(machine.pageWrite.warmUs)} µs written again (\`pageWriteCost\` in bench/lib/machine.ts)`);
  out.push(`- Code measured: ${machine.revision}`);
  out.push(`- Memory ${num(machine.totalMemoryMB / 1024)} GB total, ${num(machine.availableMemoryMB / 1024)} GB available at the start (${num(machine.freeMemoryMB / 1024)} GB free)`);
  out.push(`- Disk: ${machine.disk}; temporary folder ${machine.tmpDir}`);
  out.push(`- Load average (1 min) before ${machine.load.before[0]}, after ${machine.load.after?.[0] ?? '?'}, highest sampled during the run ${machine.load.maxDuringRun ?? '?'} (other work on the machine competes for the ${machine.cores} cores)`);
  out.push(`- Run: ${new Date(machine.startedAt).toISOString()}, ${num(totalSeconds / 60)} min; options: sizes ${opts.sizes.join(', ')}, ${opts.rounds} rounds × ${opts.iterations} iterations, ${opts.pointsInRow} points in a row, ${opts.listPoints} points listed, seed "${opts.seed}"${opts.real ? ', real workspace' : ''}${opts.host ? ', real VS Code host' : ''}`);
  if (hostSkipped) out.push(`- The rows from the real VS Code host were skipped: ${hostSkipped}`);
  out.push('');
  out.push('### Workspaces', '');
  out.push('| Workspace | Files | MB | Folders | Depth | Binary | ≥1 MB | Files captured ours / git | git auto-gc runs (waited) | ours clean-ups (waited) | Load before → after | Time |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- | ---: |');
  for (const w of workspaces) {
    out.push(`| ${w.label} | ${w.files.toLocaleString('en-US')} | ${num(w.bytesMB)} | ${w.folders.toLocaleString('en-US')} | ${w.maxDepth} | ${w.binaryFiles} | ${w.largeFiles} | ${w.oursFileCount?.toLocaleString('en-US') ?? '—'} / ${w.gitFileCount?.toLocaleString('en-US') ?? '—'} | ${w.gitAutoGc.runs} (${w.gitAutoGc.waitSeconds} s) | ${w.oursCleanups.runs} (${w.oursCleanups.waitSeconds} s) | ${w.loadBefore} → ${w.loadAfter} | ${num(w.seconds)} s |`);
  }
  out.push('');
  out.push('### Results', '');
  out.push('Median (min–max) over all samples; every scenario alternates ours and git in the same run. ours/git below 1 means ours is faster or smaller.', '');
  const groups = [...new Set(rows.map((r) => r.workspace))];
  for (const group of groups) {
    out.push(`#### ${group}`, '');
    out.push('| Scenario | Ours | Shadow git | git command | ours/git | n | Notes |');
    out.push('| --- | --- | --- | --- | --- | ---: | --- |');
    for (const row of rows.filter((r) => r.workspace === group)) {
      out.push(`| ${row.scenario} | ${fmtSummary(row.ours, row.unit)} | ${fmtSummary(row.git, row.unit)} | \`${row.gitCommand}\` | ${fmtRatioCell(row)} | ${row.ours?.n ?? 0}/${row.git?.n ?? 0} | ${row.note ?? ''} |`);
    }
    out.push('');
  }
  const synthetic = workspaces.filter((w) => w.kind === 'synthetic' && !w.label.startsWith('tiny')).map((w) => w.files);
  if (synthetic.length > 1) {
    out.push('### Growth with workspace size (synthetic, medians)', '');
    out.push(`| Scenario | ${synthetic.map((n) => `${formatCount(n)} ours / git`).join(' | ')} | ours growth | git growth |`);
    out.push(`| --- | ${synthetic.map(() => '---').join(' | ')} | ---: | ---: |`);
    const keys = [...new Set(rows.filter((r) => synthetic.includes(r.files) && r.workspace.startsWith('synthetic')).map((r) => r.key))];
    for (const key of keys) {
      const cells = synthetic.map((n) => findRow(key, n));
      const present = cells.filter((c): c is Row => c !== undefined);
      if (present.length < 2) continue;
      const firstRow = present[0]!;
      const lastRow = present[present.length - 1]!;
      const g = (a: Summary | null, b: Summary | null) => (a && b && a.median > 0 ? `${num(b.median / a.median)}×` : '—');
      out.push(
        `| ${firstRow.scenario} (${firstRow.unit}) | ${cells.map((c) => (c ? `${c.ours ? num(c.ours.median) : '—'} / ${c.git ? num(c.git.median) : '—'}` : '')).join(' | ')} | ${g(firstRow.ours, lastRow.ours)} | ${g(firstRow.git, lastRow.git)} |`,
      );
    }
    out.push('', `Files grow ${num(synthetic[synthetic.length - 1]! / synthetic[0]!)}× from the smallest to the largest size.`, '');
  }
  out.push('### Targets', '');
  out.push('| Target | Measured | Met |', '| --- | --- | --- |');
  for (const t of targets) out.push(`| ${t.target} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? '**met**' : '**missed**'} |`);
  out.push('');
  const notes = workspaces.flatMap((w) => w.notes.map((n) => `${w.label}: ${n}`));
  for (const [message, count] of processWarnings) notes.push(`Node warned ${count}× in the processes running our core: "${message}"`);
  if (notes.length > 0) out.push('### Warnings', '', ...notes.map((n) => `- ${n}`), '');
  if (profiles.length > 0) {
    out.push('### Profiles of our side (CPU: node --cpu-prof, measured window only; system calls: strace -f, per operation)', '');
    for (const p of profiles) {
      out.push(profileMarkdown(p.title, p.summary), '');
      if (p.syscalls) {
        out.push('| System calls per operation | calls |', '| --- | ---: |');
        for (const s of p.syscalls) if (s.calls > 0) out.push(`| ${s.group} | ${s.calls} |`);
        out.push('');
      }
    }
  }
  return out.join('\n');
}

// ── main: the parent runs each workspace in its own worker process ───────────

/** Warnings a child process printed (e.g. "Closing file descriptor N on garbage collection": a leaked FileHandle). */
function countChildWarnings(stderr: string): void {
  for (const match of stderr.matchAll(/Warning: (.+)/g)) {
    const key = `${match[1]!.replace(/\d+/g, 'N')} (in a child process)`;
    processWarnings.set(key, (processWarnings.get(key) ?? 0) + 1);
  }
}

function countWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    const key = warning.message.replace(/\d+/g, 'N');
    processWarnings.set(key, (processWarnings.get(key) ?? 0) + 1);
  });
}

interface WorkerJob {
  readonly kind: 'synthetic' | 'real' | 'media';
  readonly files: number;
  readonly primary: boolean;
  readonly opts: Options;
  readonly tmp: string;
  readonly childBundle: string;
  readonly runStartedAt: number;
  readonly out: string;
}

interface WorkerResult {
  readonly rows: Row[];
  readonly workspaces: WorkspaceReport[];
  readonly profiles: typeof profiles;
  readonly warnings: Record<string, number>;
}

/**
 * One workspace, in a process of its own: the core's store objects and the generator's garbage of one
 * workspace cannot slow the next (each store object ever opened in a process makes the later ones
 * slower — see BENCHMARKS.md), and the core runs as in the extension host, one store object open.
 */
async function workerMain(jobFile: string): Promise<void> {
  countWarnings();
  const job = JSON.parse(fs.readFileSync(jobFile, 'utf8')) as WorkerJob;
  runStartedAt = job.runStartedAt;
  childBundle = job.childBundle;
  const { opts, tmp } = job;
  const secondary = { rounds: Math.min(2, opts.rounds), iterations: Math.min(3, opts.iterations) };
  if (job.kind === 'synthetic') {
    log(`generating the synthetic workspace: ${formatCount(job.files)} files (two identical copies)`);
    const ws = createSynthetic(tmp, job.files, opts.seed);
    const ctx: Context = {
      opts,
      tmp,
      primary: job.primary,
      full: job.primary,
      coldRounds: job.files > 20000 ? Math.min(2, opts.rounds) : opts.rounds,
      ...(job.primary || job.files <= 2000 ? { rounds: opts.rounds, iterations: opts.iterations } : secondary),
    };
    const state = await benchWorkspace(ws, ctx, undefined);
    if (job.primary) {
      state.listStoreDir = await benchListing(ctx);
      await searchRows(tmp, opts);
      if (opts.profile) await runProfiles(state, ctx);
      await benchHistory(ws, ctx);
    }
    if (!opts.keep) {
      for (const dir of [ws.ours, ws.git, state.storeDir, path.join(tmp, `${path.basename(ws.ours).replace(/-ours$/, '')}-shadow.git`)]) fs.rmSync(dir, { recursive: true, force: true });
    }
  } else if (job.kind === 'media') {
    log(`generating the media-heavy workspace: ${formatCount(job.files)} files (two identical copies)`);
    const ws = createMedia(tmp, job.files, opts.seed);
    const ctx: Context = { opts, tmp, primary: false, full: false, coldRounds: secondary.rounds, ...secondary };
    const state = await benchWorkspace(ws, ctx, undefined);
    if (!opts.keep) for (const dir of [ws.ours, ws.git, state.storeDir, path.join(tmp, `${path.basename(ws.ours).replace(/-ours$/, '')}-shadow.git`)]) fs.rmSync(dir, { recursive: true, force: true });
  } else {
    const source = path.join(ROOT, 'node_modules');
    log(`copying ${source} (twice) as the real-code workspace`);
    const ws = createRealCopy(tmp, source, opts.seed);
    const ctx: Context = { opts, tmp, primary: false, full: false, coldRounds: secondary.rounds, ...secondary };
    const state = await benchWorkspace(ws, ctx, REAL_RULES);
    if (!opts.keep) for (const dir of [ws.ours, ws.git, state.storeDir, path.join(tmp, 'real-shadow.git')]) fs.rmSync(dir, { recursive: true, force: true });
  }
  const result: WorkerResult = { rows, workspaces, profiles, warnings: Object.fromEntries(processWarnings) };
  fs.writeFileSync(job.out, JSON.stringify(result));
}

async function runWorker(job: WorkerJob, jobFile: string): Promise<void> {
  fs.writeFileSync(jobFile, JSON.stringify(job));
  await new Promise<void>((resolve, reject) => {
    const worker = spawn(process.execPath, ['--import', 'tsx', __filename, '--worker', jobFile], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    worker.on('error', reject);
    worker.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`the ${job.kind} ${job.files} worker failed (${code})`))));
  });
  const result = JSON.parse(fs.readFileSync(job.out, 'utf8')) as WorkerResult;
  rows.push(...result.rows);
  workspaces.push(...result.workspaces);
  profiles.push(...result.profiles);
  for (const [message, count] of Object.entries(result.warnings)) processWarnings.set(message, (processWarnings.get(message) ?? 0) + count);
}

/** Activation and save → point in a real VS Code (bench/lib/host.ts), as rows of their own workspace group. */
async function hostRows(tmp: string, files: number, opts: Options): Promise<void> {
  log(`real VS Code host: synthetic ${formatCount(files)} files`);
  const rounds = opts.quick ? 8 : 20;
  const host = await runHostBench(ROOT, tmp, files, opts.seed, rounds);
  if ('skipped' in host) {
    log(`  skipped: ${host.skipped}`);
    hostSkipped = host.skipped;
    return;
  }
  const { samples } = host;
  const ws = { ...host.workspace, label: `real VS Code host (synthetic ${formatCount(files)} files)` };
  addRow(ws, 'host-activation', 'Activation (store open, view filled)', 'ms', [samples.activationMs], [], '—', `the extension's own measure, logged as "Ready in"; ${samples.pointsAtStart} point(s) in the store`);
  addRow(ws, 'host-startup', 'Start-up point (full scan of a new workspace)', 'ms', [samples.startupPointMs], [], '—', `${formatCount(samples.files)} files captured in the background after activation`);
  addRow(ws, 'host-save', 'Save → its point listed (mergeWindowSeconds 0)', 'ms', samples.saveToPoint, [], '—', 'from `document.save()` to the point in the store and the view model');
  addRow(ws, 'host-capture', '…of which creating the point', 'ms', samples.capture, [], '—', 'the store\'s own timing of createRecoveryPoint (hint mode)');
  addRow(ws, 'host-save-default', 'Save → its point listed (default 5 s merge window)', 'ms', samples.saveToPointDefault, [], '—', 'saves within 5 s become one point by design');
  if (samples.activationAfterReloadMs !== undefined) {
    addRow(ws, 'host-activation-reload', 'Activation after a reload (Developer: Reload Window)', 'ms', [samples.activationAfterReloadMs], [], '—', 'the extension\'s own "Ready in" in the reloaded window; should match the first start');
  }
  if (samples.treeAfterReloadMs !== undefined) {
    addRow(ws, 'host-tree-reload', 'Tree visible after a reload', 'ms', [samples.treeAfterReloadMs], [], '—', 'from asking for the reload until the reloaded window\'s view shows the points (the workbench\'s own reload included)');
  }
}

let hostSkipped: string | undefined;

/** This process's cost of a page's first write (the run's own process and each worker measure theirs). */
let pageWrite: PageWriteCost | undefined;

/** The page faults of points made after a fork of this process, and what they cost at this machine's rate. */
function pageFaultNote(faults: readonly number[]): string {
  if (faults.length === 0) return '';
  const median = summarize(faults)?.median ?? Number.NaN;
  pageWrite ??= pageWriteCost();
  return (
    `${num(median)} page faults a point (median): this process forked for git's turn and \`sync\` before it, so each page the point writes is copied on its first write, ` +
    `${num(pageWrite.afterForkUs)} µs each in this process (\`pageWriteCost\`): ~${num((median * pageWrite.afterForkUs) / 1000)} ms of the point`
  );
}

async function main(): Promise<void> {
  const workerAt = process.argv.indexOf('--worker');
  if (workerAt >= 0) return workerMain(process.argv[workerAt + 1]!);
  countWarnings();
  const opts = parseArgs(process.argv.slice(2));
  // a folder of its own, removed at the end; the one named by --tmp itself only with --keep (what a run keeps, the next reuses)
  if (opts.tmp) fs.mkdirSync(opts.tmp, { recursive: true });
  const tmp = opts.tmp && opts.keep ? opts.tmp : fs.mkdtempSync(path.join(opts.tmp ?? os.tmpdir(), 'rp-bench-'));
  const machine = describeMachine(tmp);
  pageWrite = machine.pageWrite;
  const load = new LoadSampler();
  load.start();
  log(`machine: ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, git ${machine.git}, load ${machine.load.before.join(' ')}; temporary folder ${tmp}`);
  childBundle = await buildChild(tmp);
  const primaryFiles = opts.sizes.includes(10000) ? 10000 : opts.sizes[opts.sizes.length - 1]!;
  if (opts.searchOnly || opts.longHistory > 0 || opts.memoryOnly || opts.restoreOnly || opts.hintOnly || opts.cliOnly || opts.historyOnly) {
    try {
      if (opts.restoreOnly) await restoreOnlyRows(tmp, opts);
      if (opts.hintOnly) await hintOnlyRows(tmp, opts);
      if (opts.cliOnly) await cliOnlyRows(tmp, opts);
      if (opts.memoryOnly) await memoryRows(tmp, opts);
      if (opts.searchOnly) await searchRows(tmp, opts);
      if (opts.historyOnly) await historyRows(tmp, primaryFiles, opts);
      if (opts.longHistory > 0) await longHistoryRows(tmp, opts);
    } finally {
      load.stop();
      machine.load.after = os.loadavg().map((x) => round(x, 2));
      machine.load.maxDuringRun = round(load.max, 2);
      if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
    }
    const targets = opts.historyOnly ? evaluateTargets(primaryFiles, opts.listPoints, opts.pointsInRow).filter((t) => /history|changes opened/.test(t.target)) : [];
    process.stdout.write(`${renderMarkdown(machine, opts, targets, (Date.now() - runStartedAt) / 1000)}\n`);
    return;
  }
  if (opts.hostOnly) {
    try {
      await hostRows(tmp, primaryFiles, opts);
    } finally {
      load.stop();
      if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
    }
    if (hostSkipped) throw new Error(`the host rows were skipped: ${hostSkipped}`);
    return;
  }
  const jobs: Array<Pick<WorkerJob, 'kind' | 'files' | 'primary'>> = opts.sizes.map((files) => ({ kind: 'synthetic', files, primary: files === primaryFiles }));
  if (opts.media > 0) jobs.push({ kind: 'media', files: opts.media, primary: false });
  if (opts.real) jobs.push({ kind: 'real', files: 0, primary: false });
  try {
    for (const [i, job] of jobs.entries()) {
      await runWorker({ ...job, opts, tmp, childBundle, runStartedAt, out: path.join(tmp, `worker-${i}.json`) }, path.join(tmp, `job-${i}.json`));
    }
    if (opts.host) await hostRows(tmp, primaryFiles, opts);
  } finally {
    load.stop();
    machine.load.after = os.loadavg().map((x) => round(x, 2));
    machine.load.maxDuringRun = round(load.max, 2);
    if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
    else log(`kept ${tmp}`);
  }
  const totalSeconds = (Date.now() - runStartedAt) / 1000;
  const targets = evaluateTargets(primaryFiles, opts.listPoints, opts.pointsInRow);
  const markdown = renderMarkdown(machine, opts, targets, totalSeconds);
  const resultsDir = path.join(ROOT, 'bench-results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = machine.startedAt.replace(/[:.]/g, '-');
  const json = { machine, options: opts, workspaces, rows, targets, profiles, nodeWarnings: Object.fromEntries(processWarnings), loadSamples: load.samples, totalSeconds: round(totalSeconds, 1), realRules: REAL_RULES };
  fs.writeFileSync(path.join(resultsDir, `bench-${stamp}.json`), `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, `bench-${stamp}.md`), `${markdown}\n`);
  fs.writeFileSync(path.join(resultsDir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, 'latest.md'), `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
  log(`results: bench-results/bench-${stamp}.md and .json`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
