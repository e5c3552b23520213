// Runs the end-to-end tests (test/e2e/*.e2e.ts) through the real workbench UI: the VS Code server
// from code-server (installed by installHost.mjs) with this checkout installed as an extension (a
// link in a fresh extensions folder, as `npm start` does), opening a temporary copy of
// test/e2e/fixtures/workspace/ in headless Debian Chromium driven by Playwright.
//
// Needs `npm run build` first (dist/extension.js) and the host installed (`npm run host:install`;
// `npm run test:e2e` runs the installer, then this).
// Each test file exports `steps` ({ name, run(context) }); the steps of a file build on each other
// and run in order; after a failure the file's remaining steps are skipped. A file may also export
// `settings` (user settings added to the defaults below, for its server only). Besides the page, a
// step gets the server's user-data folder, `newPage()` (another window on the workspace: its own
// extension host) and `restartServer(whileStopped)` (the server stopped, work done while it is
// down, then started again on the same data folder and port, and the page reopened).
// Screenshots for the documentation are written to docs/images/; on a failure, a screenshot of the
// page goes to test-results/e2e/.
// Environment: RP_E2E_TIMEOUT   the whole run's limit in seconds (default 480)
//              RP_E2E_ONLY      run only the test files whose name contains this text
//              RP_E2E_VERBOSE=1 also print the server's output and the page's console
// Exit code: 0 when every step passed, 1 otherwise. The last line is `N passed, N failed[, N skipped]`.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, isHostInstalled, launchChromium, startServer } from './codeServer.mjs';

const TESTS_SRC_DIR = path.join(ROOT, 'test', 'e2e');
const TESTS_OUT_DIR = path.join(ROOT, 'out', 'test', 'e2e');
const FIXTURE_WORKSPACE = path.join(TESTS_SRC_DIR, 'fixtures', 'workspace');
const EXTENSION_MAIN = path.join(ROOT, 'dist', 'extension.js');
const IMAGES_DIR = path.join(ROOT, 'docs', 'images');
const RESULTS_DIR = path.join(ROOT, 'test-results', 'e2e');

/** Settings for a quiet, predictable workbench: no suggestion widgets while typing, points one second after a save. */
const E2E_SETTINGS = {
  'workbench.colorTheme': 'Default Dark Modern',
  // The web workbench saves after a delay by default; a person on the desktop saves with Ctrl+S.
  'files.autoSave': 'off',
  'diffEditor.useInlineViewWhenSpaceIsLimited': false,
  'editor.minimap.enabled': false,
  'editor.occurrencesHighlight': 'off',
  'editor.selectionHighlight': false,
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.parameterHints.enabled': false,
  'editor.hover.enabled': false,
  'editor.codeLens': false,
  'git.enabled': false,
  'workbench.editor.enablePreview': false,
  'recoveryPoints.mergeWindowSeconds': 1,
};

/** Compiles test/e2e/*.e2e.ts (and what they import) into out/test/e2e/ as ES modules. */
async function compileTests() {
  const esbuild = await import('esbuild');
  const only = process.env.RP_E2E_ONLY;
  const entries = readdirSync(TESTS_SRC_DIR).filter((file) => file.endsWith('.e2e.ts') && (!only || file.includes(only))).map((file) => path.join(TESTS_SRC_DIR, file));
  if (entries.length === 0) throw new Error(`no *.e2e.ts files in ${path.relative(ROOT, TESTS_SRC_DIR)}`);
  await rm(TESTS_OUT_DIR, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: entries,
    outdir: TESTS_OUT_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return entries.map((file) => path.join(TESTS_OUT_DIR, `${path.basename(file, '.ts')}.mjs`));
}

/** The extension's own log files (its "Recovery Points" output channel, one per extension host), oldest first. */
function extensionLogs(userDataDir) {
  const logsDir = path.join(userDataDir, 'logs');
  if (!existsSync(logsDir)) return [];
  return readdirSync(logsDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('Recovery Points.log'))
    .map((file) => path.join(logsDir, file))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

async function main() {
  const started = Date.now();
  const verbose = process.env.RP_E2E_VERBOSE === '1';
  const timeoutSeconds = Number(process.env.RP_E2E_TIMEOUT || 480);
  if (!existsSync(EXTENSION_MAIN)) throw new Error(`${path.relative(ROOT, EXTENSION_MAIN)} is missing: run \`npm run build\` first`);
  if (!isHostInstalled()) throw new Error('code-server is not installed: run `npm run host:install` first');

  const files = await compileTests();
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const extensionFolder = `${manifest.publisher}.${manifest.name}-${manifest.version}`;
  mkdirSync(IMAGES_DIR, { recursive: true });
  rmSync(RESULTS_DIR, { recursive: true, force: true });
  mkdirSync(RESULTS_DIR, { recursive: true });

  const cleanups = [];
  const cleanUp = async () => {
    while (cleanups.length) await cleanups.pop()().catch(() => {});
  };
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const summary = () => `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`;
  // The whole run is bounded: on time-out (or Ctrl+C) everything started is stopped, which fails the
  // step under way; if the run still does not end, it is ended.
  let aborted = null;
  const abort = (reason) => {
    if (aborted) return;
    aborted = reason;
    console.log(`[e2e] ${reason}: stopping`);
    void cleanUp();
    setTimeout(() => {
      console.log(summary());
      process.exit(1);
    }, 15_000).unref();
  };
  const timer = setTimeout(() => abort(`timed out after ${timeoutSeconds} s`), timeoutSeconds * 1000);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => abort(signal));

  try {
    for (const file of files) {
      const name = path.basename(file, '.mjs');
      const { steps, settings } = await import(pathToFileURL(file).href);
      if (!Array.isArray(steps) || steps.length === 0) throw new Error(`${name} exports no steps`);

      const parent = await mkdtemp(path.join(os.tmpdir(), 'rp-e2e-workspace-'));
      cleanups.push(() => rm(parent, { recursive: true, force: true }));
      const workspace = path.join(parent, 'workspace');
      await cp(FIXTURE_WORKSPACE, workspace, { recursive: true });

      // The server's data (user settings, workspace storage: the extension's store) outlives a restart.
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rp-e2e-data-'));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      const serverOptions = {
        // code-server's own command line: the bare server's --enable-smoke-test-driver makes the
        // workbench refuse modal dialogs ("refused to show dialog in tests"), which a person answers here.
        kind: 'code-server',
        dataDir,
        userSettings: { ...E2E_SETTINGS, ...settings },
        onOutput: (line) => verbose && console.log(`[server] ${line}`),
      };
      // Installed as `npm start` installs it: a link to this checkout in the extensions folder.
      let server = await startServer({ ...serverOptions, prepare: (dir) => symlink(ROOT, path.join(dir, 'extensions', extensionFolder), 'dir') });
      let stopServer = server.stop;
      cleanups.push(() => stopServer());
      const browser = await launchChromium();
      cleanups.push(browser.close);
      const openPage = async () => {
        const opened = await browser.context.newPage();
        await opened.setViewportSize({ width: 1440, height: 900 });
        opened.setDefaultTimeout(20_000);
        if (verbose) opened.on('console', (message) => console.log(`[page ${message.type()}] ${message.text()}`));
        opened.on('pageerror', (error) => console.log(`[workbench error] ${error.message}`));
        return opened;
      };
      const page = await openPage();
      await page.goto(server.workbenchUrl({ folder: workspace }));
      const newPage = async () => {
        const opened = await openPage();
        await opened.goto(server.workbenchUrl({ folder: workspace }));
        return opened;
      };
      const restartServer = async (whileStopped) => {
        await server.stop();
        if (whileStopped) await whileStopped();
        server = await startServer({ ...serverOptions, port: server.port });
        stopServer = server.stop;
        await page.goto(server.workbenchUrl({ folder: workspace }));
      };

      console.log(`\n  ${name} (VS Code server on ${server.baseUrl}, workspace ${workspace})`);
      const context = { page, root: ROOT, workspace, fixture: FIXTURE_WORKSPACE, imagesDir: IMAGES_DIR, userDataDir: server.userDataDir, newPage, restartServer };
      let failed = false;
      for (const [index, step] of steps.entries()) {
        if (failed || aborted) {
          counts.skipped++;
          console.log(`    - ${step.name} (skipped)`);
          continue;
        }
        const stepStarted = Date.now();
        try {
          await step.run(context);
          counts.passed++;
          console.log(`    ✔ ${step.name} (${Date.now() - stepStarted} ms)`);
        } catch (error) {
          failed = true;
          counts.failed++;
          console.log(`    ✘ ${step.name} (${Date.now() - stepStarted} ms)`);
          console.log(`      ${String(error instanceof Error ? (error.stack ?? error.message) : error).split('\n').join('\n      ')}`);
          for (const log of extensionLogs(server.userDataDir)) {
            const lines = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-15);
            console.log(`      ${path.relative(server.userDataDir, log)} (last lines):\n        ${lines.join('\n        ')}`);
          }
          const shot = path.join(RESULTS_DIR, `${name}-step${index + 1}.png`);
          await page.screenshot({ path: shot }).then(() => console.log(`      screenshot: ${path.relative(ROOT, shot)}`), () => {});
        }
      }
      await cleanUp();
      if (aborted) break;
    }
  } finally {
    clearTimeout(timer);
    await cleanUp();
  }
  console.log(`\n[e2e] ${aborted ? `FAILED (${aborted})` : 'done'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(summary());
  return !aborted && counts.failed === 0 && counts.passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[e2e] FAILED: ${error instanceof Error ? error.message : error}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
