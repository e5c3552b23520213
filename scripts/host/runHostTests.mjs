// Runs the extension-host tests (test/host/suite/) inside a real VS Code on this machine: the VS
// Code server from code-server (installed by installHost.mjs) serves the workbench, headless Debian
// Chromium opens it with a payload that loads this checkout as the extension under development and
// the compiled test entry out/test/host/index.js as extensionTestsPath, on a temporary copy of
// test/host/fixtures/workspace/. The extension host's console is streamed to stdout as it arrives;
// the workbench reports the end through window.codeAutomationExit(code).
//
// Needs `npm run build` first (dist/extension.js, the extension's main) and the host installed
// (`npm run host:install`; `npm run test:host` runs the installer, then this).
// Environment: RP_HOST_TEST_GREP       mocha grep: only matching tests run
//              RP_HOST_TEST_TIMEOUT    global timeout in seconds (default 600)
//              RP_HOST_TEST_VERBOSE=1  also print the server's and the workbench's own output
// Exit code: 0 when every test passed; 1 when a test failed, the run broke or timed out.
// The last line is `N passed, N failed` (from the test entry), alone.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { ROOT, isHostInstalled, launchChromium, startServer } from './codeServer.mjs';

export const TESTS_SRC_DIR = path.join(ROOT, 'test', 'host', 'suite');
export const TESTS_OUT_DIR = path.join(ROOT, 'out', 'test', 'host');
export const TEST_ENTRY = path.join(TESTS_OUT_DIR, 'index.js');
export const FIXTURE_WORKSPACE = path.join(ROOT, 'test', 'host', 'fixtures', 'workspace');
export const EXTENSION_MAIN = path.join(ROOT, 'dist', 'extension.js');
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
export async function runEntryInHost({ entry, folder, env = {}, userSettings = {}, timeoutSeconds = 600, verbose = false, logsDir = LOGS_DIR, onText = () => {} }) {
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
      onOutput: (line) => {
        serverOutput.push(line);
        if (verbose) console.log(`[server] ${line}`);
      },
    });
    cleanups.push(server.stop);
    console.log(`[host] VS Code server (code-server's) on ${server.baseUrl}, workspace ${folder}`);

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

    const url = server.workbenchUrl({ folder, extensionDevelopmentPath: ROOT, extensionTestsPath: entry });
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
  if (!existsSync(EXTENSION_MAIN)) {
    throw new Error(`${path.relative(ROOT, EXTENSION_MAIN)} is missing: run \`npm run build\` first`);
  }
  if (!isHostInstalled()) throw new Error('code-server is not installed: run `npm run host:install` first');

  const count = await compileHostTests();
  console.log(`[host] compiled the test entry and ${count} test file(s) into ${path.relative(ROOT, TESTS_OUT_DIR)}/`);

  const fixture = await copyFixtureWorkspace();
  let summary = null;
  let result;
  try {
    result = await runEntryInHost({
      entry: TEST_ENTRY,
      folder: fixture.workspace,
      env: {
        RP_HOST_TEST_WORKSPACE: fixture.workspace,
        ...(process.env.RP_HOST_TEST_GREP ? { RP_HOST_TEST_GREP: process.env.RP_HOST_TEST_GREP } : {}),
      },
      timeoutSeconds: Number(process.env.RP_HOST_TEST_TIMEOUT || 600),
      verbose: process.env.RP_HOST_TEST_VERBOSE === '1',
      onText: (text) => {
        if (SUMMARY.test(text.trim())) summary = text.trim();
      },
    });
  } finally {
    await fixture.remove();
  }
  let exitCode = result.code === 0 ? 0 : 1;
  console.log(`[host] done in ${((Date.now() - started) / 1000).toFixed(1)} s, exit code ${exitCode}`);
  if (summary) {
    console.log(summary);
  } else {
    console.log('[host] the test entry did not report its counts (it did not run to the end)');
    exitCode = 1;
  }
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
