// Runs the extension-host tests (test/host/suite/) inside a real VS Code on this machine: the VS
// Code server from code-server (installed by installHost.mjs) serves the workbench, headless Debian
// Chromium opens it with a payload that loads this checkout as the extension under development and
// the compiled test entry out/test/host/index.js as extensionTestsPath. The extension host's console
// is streamed to stdout as it arrives; the workbench reports the end through
// window.codeAutomationExit(code).
//
// Three runs, each a fresh VS Code (the host cannot reopen another workspace within a run):
//   folder     the test files directly in test/host/suite/, on a temporary copy of
//              test/host/fixtures/workspace/ opened as a folder;
//   workspace  test/host/suite/multiRoot/, on a temporary copy of test/host/fixtures/multiRoot/
//              opened through its .code-workspace file (two folders);
//   moved      test/host/suite/movedFolder/, on a copy of the folder fixture whose history was left
//              behind by a move: before VS Code starts, the workspace-storage folder of a folder that
//              no longer exists gets a store with points of the same files (made with dist/cli.js).
//
// Needs `npm run build` first (dist/extension.js, the extension's main) and the host installed
// (`npm run host:install`; `npm run test:host` runs the installer, then this).
// Environment: RP_HOST_TEST_GREP       mocha grep: only matching tests run (a run none of whose
//                                      titles can match is left out)
//              RP_HOST_TEST_RUN        the runs to make, comma-separated (default: all three)
//              RP_HOST_TEST_TIMEOUT    global timeout in seconds per run (default 600)
//              RP_HOST_TEST_VERBOSE=1  also print the server's and the workbench's own output
//              RP_HOST_WAIT_SCALE      how much longer than on an idle machine the tests' waits may
//                                      take (default: the load average per core, between 1 and 5;
//                                      see `loadWaitScale` in codeServer.mjs)
// Exit code: 0 when every test passed; 1 when a test failed, a run broke or timed out.
// The last line is `N passed, N failed` (summed over the runs), alone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { ROOT, isHostInstalled, launchChromium, loadWaitScale, pinMiddayTimeZone, startServer } from './codeServer.mjs';

export const TESTS_SRC_DIR = path.join(ROOT, 'test', 'host', 'suite');
export const TESTS_OUT_DIR = path.join(ROOT, 'out', 'test', 'host');
export const TEST_ENTRY = path.join(TESTS_OUT_DIR, 'index.js');
export const FIXTURE_WORKSPACE = path.join(ROOT, 'test', 'host', 'fixtures', 'workspace');
export const FIXTURE_MULTI_ROOT = path.join(ROOT, 'test', 'host', 'fixtures', 'multiRoot');
export const EXTENSION_MAIN = path.join(ROOT, 'dist', 'extension.js');
const CLI_MAIN = path.join(ROOT, 'dist', 'cli.js');
const EXTENSION_ID = 'recovery-points.recovery-points';
const LOGS_DIR = path.join(ROOT, 'test-results', 'host');

const SUMMARY = /^\d+ passed, \d+ failed(, \d+ skipped)?$/;

/**
 * Compiles the test entry and every test/host/suite/**\/*.test.ts into out/test/host/ (CommonJS
 * for Node 20; `vscode` and the packages in node_modules, mocha included, stay runtime requires).
 */
export async function compileHostTests() {
  const esbuild = await import('esbuild');
  const tests = readdirSync(TESTS_SRC_DIR, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => path.join(TESTS_SRC_DIR, file));
  await rm(TESTS_OUT_DIR, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [path.join(TESTS_SRC_DIR, 'index.ts'), ...tests],
    outbase: TESTS_SRC_DIR,
    outdir: TESTS_OUT_DIR,
    bundle: true,
    packages: 'external',
    external: ['vscode'],
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    logLevel: 'warning',
  });
  return tests.length;
}

/** A temporary copy of the fixture workspace, so tests may change it. */
export async function copyFixtureWorkspace() {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'rp-host-workspace-'));
  const workspace = path.join(parent, 'workspace');
  await cp(FIXTURE_WORKSPACE, workspace, { recursive: true });
  return { workspace, remove: () => rm(parent, { recursive: true, force: true }) };
}

/** A temporary copy of the multi-root fixture: its folders and the `.code-workspace` file that names them. */
export async function copyMultiRootWorkspace() {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'rp-host-multi-root-'));
  await cp(FIXTURE_MULTI_ROOT, parent, { recursive: true });
  const workspaceFile = readdirSync(parent).find((name) => name.endsWith('.code-workspace'));
  if (!workspaceFile) throw new Error(`${FIXTURE_MULTI_ROOT} has no .code-workspace file`);
  return { parent, workspaceFile: path.join(parent, workspaceFile), remove: () => rm(parent, { recursive: true, force: true }) };
}

/**
 * Before the server starts: the workspace-storage folder of a folder that was moved away (it no longer
 * exists), as VS Code leaves it (workspace.json naming the folder), holding this extension's store
 * with three points of the fixture's files, made by the command-line tool while the folder existed.
 */
async function leaveHistoryOfMovedFolder(dataDir) {
  const gone = await mkdtemp(path.join(os.tmpdir(), 'rp-host-moved-away-'));
  const oldFolder = path.join(gone, 'old-app');
  try {
    await cp(FIXTURE_WORKSPACE, oldFolder, { recursive: true });
    const workspaceDir = path.join(dataDir, 'user-data', 'User', 'workspaceStorage', 'rp-host-moved-away');
    await mkdir(workspaceDir, { recursive: true });
    await writeFile(path.join(workspaceDir, 'workspace.json'), JSON.stringify({ folder: pathToFileURL(oldFolder).href }));
    const storeDir = path.join(workspaceDir, EXTENSION_ID);
    const readme = path.join(oldFolder, 'README.md');
    const original = readFileSync(readme, 'utf8');
    const snapshot = (label) => {
      const cli = spawnSync(process.execPath, [CLI_MAIN, '--workspace', oldFolder, '--store', storeDir, 'snapshot', ...(label ? ['--label', label] : [])], { encoding: 'utf8' });
      if (cli.status !== 0) throw new Error(`recovery-points snapshot failed: ${cli.stderr || cli.stdout}`);
    };
    snapshot('history before the move');
    writeFileSync(readme, `${original}\nedited before the move\n`);
    snapshot();
    writeFileSync(readme, original);
    snapshot();
  } finally {
    await rm(gone, { recursive: true, force: true });
  }
}

/**
 * The runs: each opens its own VS Code on its own workspace and runs the test files of one folder of
 * test/host/suite (`suite`: '' for the files directly in it). `open()` prepares the workspace and
 * returns what to open, the environment of the extension host and how to clean up.
 */
export const RUNS = [
  {
    name: 'folder',
    suite: '',
    async open() {
      const fixture = await copyFixtureWorkspace();
      return { folder: fixture.workspace, env: { RP_HOST_TEST_WORKSPACE: fixture.workspace }, remove: fixture.remove };
    },
  },
  {
    name: 'workspace',
    suite: 'multiRoot',
    async open() {
      const fixture = await copyMultiRootWorkspace();
      return { workspace: fixture.workspaceFile, env: { RP_HOST_TEST_WORKSPACE_FILE: fixture.workspaceFile }, remove: fixture.remove };
    },
  },
  {
    name: 'moved',
    suite: 'movedFolder',
    async open() {
      const fixture = await copyFixtureWorkspace();
      return { folder: fixture.workspace, env: { RP_HOST_TEST_WORKSPACE: fixture.workspace }, prepare: leaveHistoryOfMovedFolder, remove: fixture.remove };
    },
  },
];

/**
 * Whether a mocha grep could match a test of `suite`: it is tried on every `suite('…')` and
 * `test('…')` title of its files, and on each suite title followed by each test title of the same
 * file (mocha matches "suite title test title"). Titles that are not plain literals make it say yes.
 */
export function grepCouldMatch(grep, suite) {
  const dir = path.join(TESTS_SRC_DIR, suite);
  // Read as mocha reads a grep string: a RegExp, `/source/flags` included.
  const [, source, flags] = grep.match(/^\/(.*)\/([gimy]{0,4})$/) ?? [undefined, grep, ''];
  let pattern;
  try {
    pattern = new RegExp(source, flags);
  } catch {
    return true;
  }
  const literal = (quote) => `${quote}((?:[^${quote}\\\\]|\\\\.)*)${quote}`;
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.test.ts'))) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    if (/\b(suite|test)\(\s*`/.test(text)) return true;
    const titles = (kind) =>
      [...text.matchAll(new RegExp(`\\b${kind}\\(\\s*(?:${literal("'")}|${literal('"')})`, 'g'))].map((m) => (m[1] ?? m[2]).replace(/\\(.)/g, '$1'));
    const suites = titles('suite');
    const tests = titles('test');
    const candidates = [...suites, ...tests, ...suites.flatMap((s) => tests.map((t) => `${s} ${t}`))];
    if (candidates.some((title) => pattern.test(title))) return true;
  }
  return false;
}

/**
 * The workbench's log messages, the extension host's console output among them, reach the page's
 * console as `('%c INFO', 'color: ...', format, ...args)`. Returns the formatted text and level, or
 * null for any other console message.
 */
async function workbenchLogLine(message) {
  const args = message.args();
  if (args.length < 3) return null;
  const head = await args[0].jsonValue().catch(() => null);
  const level = typeof head === 'string' ? head.match(/^%c\s*([A-Z]+)$/)?.[1] : undefined;
  if (!level) return null;
  const values = await Promise.all(args.slice(2).map((arg) => arg.jsonValue().catch(() => '[unserializable]')));
  return { level, text: format(...values) };
}

/** Workbench lines that say nothing about the extension or the tests (shown with RP_HOST_TEST_VERBOSE=1). */
const NOISE = [
  /^Resolv(ing|ed) connection token/,
  /^Creating a socket/,
  /^Updating additional builtin extensions cache/,
  /^ChatSessionStore:/,
  /^\[Service Worker\] registration/,
  /ENOTFOUND open-vsx\.org/,
];

/**
 * Opens `folder` in a real VS Code (the server + headless Chromium) with this checkout as the extension
 * under development and `entry` (a compiled file exporting `run()`) as extensionTestsPath, streams the
 * extension host's console (`onText` sees every line) and resolves when the entry reports its end.
 */
export async function runEntryInHost({ entry, folder, workspace, env = {}, userSettings = {}, prepare, timeoutSeconds = 600, verbose = false, logsDir = LOGS_DIR, onText = () => {} }) {
  const cleanups = [];
  const cleanUp = async () => {
    while (cleanups.length) await cleanups.pop()().catch(() => {});
  };
  const interrupt = (signal) => {
    console.log(`[host] ${signal}: stopping`);
    void cleanUp().then(() => process.exit(130));
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, interrupt);
  try {
    rmSync(logsDir, { recursive: true, force: true });
    const serverOutput = [];
    const server = await startServer({
      // The web workbench saves after a delay by default: tests of unsaved edits need them to stay unsaved.
      userSettings: { 'files.autoSave': 'off', ...userSettings },
      env,
      prepare,
      onOutput: (line) => {
        serverOutput.push(line);
        if (verbose) console.log(`[server] ${line}`);
      },
    });
    cleanups.push(server.stop);
    console.log(`[host] VS Code server (code-server's) on ${server.baseUrl}, workspace ${workspace ?? folder}`);

    const browser = await launchChromium();
    cleanups.push(browser.close);
    const page = await browser.context.newPage();

    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    await page.exposeFunction('codeAutomationExit', (code, logs) => {
      if (Array.isArray(logs) && logs.length) {
        // The workbench hands over its log files: kept in test-results/host/ for looking into failures.
        for (const entry of logs) {
          if (!entry || typeof entry.relativePath !== 'string') continue;
          const file = path.join(logsDir, entry.relativePath);
          if (!file.startsWith(logsDir)) continue;
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, typeof entry.contents === 'string' ? entry.contents : JSON.stringify(entry.contents));
        }
      }
      finish({ code: Number(code) });
    });
    // Printed in arrival order, as they come (jsonValue() is asynchronous).
    let printing = Promise.resolve();
    page.on('console', (message) => {
      printing = printing.then(async () => {
        const line = await workbenchLogLine(message);
        if (!line) {
          if (verbose) console.log(`[page ${message.type()}] ${message.text()}`);
          return;
        }
        if (!verbose && NOISE.some((pattern) => pattern.test(line.text))) return;
        const prefix = line.level === 'INFO' ? '' : `[${line.level}] `;
        for (const text of line.text.split('\n')) {
          console.log(`${prefix}${text}`);
          onText(text);
        }
      });
    });
    page.on('pageerror', (error) => console.log(`[workbench error] ${error.message}`));
    page.on('crash', () => finish({ code: 1, reason: 'the page crashed' }));

    const timer = setTimeout(
      () => finish({ code: 1, reason: `timed out after ${timeoutSeconds} s without the workbench reporting an exit` }),
      timeoutSeconds * 1000,
    );
    server.exited.then((info) => finish({ code: 1, reason: `the server exited (code ${info.code}, signal ${info.signal})` }));

    const url = server.workbenchUrl({ folder, workspace, extensionDevelopmentPath: ROOT, extensionTestsPath: entry });
    if (verbose) console.log(`[host] opening ${url}`);
    await page.goto(url);
    const result = await finished;
    clearTimeout(timer);
    await Promise.race([printing, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (result.reason) {
      console.log(`[host] FAILED: ${result.reason}`);
      if (!verbose) console.log(`[host] last server output:\n${serverOutput.slice(-30).join('\n')}`);
    }
    return result;
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM']) process.off(signal, interrupt);
    await cleanUp();
  }
}

async function main() {
  const started = Date.now();
  console.log(`[host] time zone ${pinMiddayTimeZone()}: about noon there, so no run crosses midnight`);
  if (!existsSync(EXTENSION_MAIN)) {
    throw new Error(`${path.relative(ROOT, EXTENSION_MAIN)} is missing: run \`npm run build\` first`);
  }
  if (!isHostInstalled()) throw new Error('code-server is not installed: run `npm run host:install` first');

  const count = await compileHostTests();
  console.log(`[host] compiled the test entry and ${count} test file(s) into ${path.relative(ROOT, TESTS_OUT_DIR)}/`);

  const grep = process.env.RP_HOST_TEST_GREP;
  const chosen = process.env.RP_HOST_TEST_RUN ? process.env.RP_HOST_TEST_RUN.split(',').map((name) => name.trim()) : RUNS.map((run) => run.name);
  const unknown = chosen.filter((name) => !RUNS.some((run) => run.name === name));
  if (unknown.length > 0) throw new Error(`RP_HOST_TEST_RUN names no run ${unknown.join(', ')} (runs: ${RUNS.map((run) => run.name).join(', ')})`);
  const totals = { passed: 0, failed: 0, skipped: 0 };
  let exitCode = 0;
  for (const run of RUNS.filter((r) => chosen.includes(r.name))) {
    if (grep && !grepCouldMatch(grep, run.suite)) {
      console.log(`[host] run "${run.name}": no test title matches RP_HOST_TEST_GREP, left out`);
      continue;
    }
    const runStarted = Date.now();
    console.log(`[host] run "${run.name}" (test/host/suite/${run.suite})`);
    const scale = loadWaitScale('RP_HOST_WAIT_SCALE');
    if (scale > 1) console.log(`[host] load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores: the tests' waits ×${scale}`);
    const opened = await run.open();
    let summary = null;
    let result;
    try {
      result = await runEntryInHost({
        entry: TEST_ENTRY,
        folder: opened.folder,
        workspace: opened.workspace,
        prepare: opened.prepare,
        // files the file watcher does not report, as if it missed their events ("automatic points")
        userSettings: { 'files.watcherExclude': { '**/*.unwatched': true } },
        env: {
          ...opened.env,
          RP_HOST_TEST_SUITE: run.suite,
          RP_HOST_WAIT_SCALE: String(scale),
          ...(grep ? { RP_HOST_TEST_GREP: grep } : {}),
        },
        timeoutSeconds: Number(process.env.RP_HOST_TEST_TIMEOUT || 600 * scale),
        verbose: process.env.RP_HOST_TEST_VERBOSE === '1',
        logsDir: path.join(LOGS_DIR, run.name),
        onText: (text) => {
          if (SUMMARY.test(text.trim())) summary = text.trim();
        },
      });
    } finally {
      await opened.remove();
    }
    if (result.code !== 0) exitCode = 1;
    const counts = summary?.match(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/);
    if (counts) {
      totals.passed += Number(counts[1]);
      totals.failed += Number(counts[2]);
      totals.skipped += Number(counts[3] ?? 0);
    } else {
      console.log(`[host] run "${run.name}": the test entry did not report its counts (it did not run to the end)`);
      exitCode = 1;
    }
    console.log(`[host] run "${run.name}" done in ${((Date.now() - runStarted) / 1000).toFixed(1)} s: ${summary ?? 'no counts'}`);
  }
  console.log(`[host] done in ${((Date.now() - started) / 1000).toFixed(1)} s, exit code ${exitCode}`);
  console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
  return exitCode;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`[host] FAILED: ${error instanceof Error ? error.message : error}`);
      process.exit(1);
    },
  );
}
