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
// The screenshots the steps take for the documentation are written to test-results/screenshots/
// (git-ignored), so a test run leaves the work tree as it found it; with --update-docs-images
// (`npm run docs:images`) they replace docs/images/. When a step fails, the runner saves in
// test-results/e2e/ (or RP_E2E_RESULTS) what explains it: a screenshot of every open window, the
// notifications (toasts and the notification centre's list), the extension's whole logs, the
// extension host's log and each window's console errors and warnings, and prints their paths with
// the logs' last lines (of the host's log and the consoles, the errors and warnings).
// Arguments:   [--update-docs-images] [FILTER] (FILTER: as RP_E2E_ONLY)
// Environment: RP_E2E_TIMEOUT   the whole run's limit in seconds (default 480)
//              RP_E2E_ONLY      run only the test files whose name contains this text
//              RP_E2E_RESULTS   the folder for a failure's screenshots and logs (default test-results/e2e)
//              RP_E2E_VERBOSE=1 also print the server's output and the page's console
//              RP_E2E_WAIT_SCALE how much longer than on an idle machine each wait may take (default:
//                               the load average per core, between 1 and 5; see `loadWaitScale` in codeServer.mjs)
// Exit code: 0 when every step passed, 1 otherwise. The last line is `N passed, N failed[, N skipped]`.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, isHostInstalled, launchChromium, loadWaitScale, pinMiddayTimeZone, startServer } from './codeServer.mjs';

const TESTS_SRC_DIR = path.join(ROOT, 'test', 'e2e');
const TESTS_OUT_DIR = path.join(ROOT, 'out', 'test', 'e2e');
const FIXTURE_WORKSPACE = path.join(TESTS_SRC_DIR, 'fixtures', 'workspace');
const EXTENSION_MAIN = path.join(ROOT, 'dist', 'extension.js');
const ARGS = process.argv.slice(2);
const UPDATE_DOCS_IMAGES = ARGS.includes('--update-docs-images');
const ONLY = ARGS.find((arg) => !arg.startsWith('--')) ?? process.env.RP_E2E_ONLY;
/** Where the steps' screenshots go: the documentation's images only when asked to refresh them. */
const IMAGES_DIR = UPDATE_DOCS_IMAGES ? path.join(ROOT, 'docs', 'images') : path.join(ROOT, 'test-results', 'screenshots');
const RESULTS_DIR = path.resolve(ROOT, process.env.RP_E2E_RESULTS || path.join('test-results', 'e2e'));

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
  const entries = readdirSync(TESTS_SRC_DIR).filter((file) => file.endsWith('.e2e.ts') && (!ONLY || file.includes(ONLY))).map((file) => path.join(TESTS_SRC_DIR, file));
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

/** The extension host's own log: what it reports of an extension's failures (a tree item that could not be made, for one). */
const EXTENSION_HOST_LOG = 'remoteexthost.log';
/** Each window's console errors and warnings, the newest 200: saved when a step fails. */
const pageConsoles = new WeakMap();

/** The extension's own log files (its "Recovery Points" output channel) and the extension host's, one of each per extension host, oldest first. */
function extensionLogs(userDataDir) {
  const logsDir = path.join(userDataDir, 'logs');
  if (!existsSync(logsDir)) return [];
  return readdirSync(logsDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('Recovery Points.log') || file.endsWith(EXTENSION_HOST_LOG))
    .map((file) => path.join(logsDir, file))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

/**
 * The notifications a person would see now: the toasts on screen, then the notification centre's list
 * (every notification not yet closed, toasts that timed out among them), opened for the screenshot
 * taken after this. Best effort: a page that no longer answers gives what could be read.
 */
async function notificationsState(page) {
  const read = (selector) =>
    page.locator(selector).evaluateAll((items) => items.map((item) => (item.getAttribute('aria-label') || item.textContent || '').replace(/\s+/g, ' ').trim()));
  const state = { toasts: await read('.notifications-toasts .notification-toast').catch(() => ['(unreadable)']), centre: ['(not opened)'] };
  const centre = page.locator('.notifications-center');
  try {
    if (!(await centre.isVisible())) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input.input');
      await input.fill('>Notifications: Show Notifications', { timeout: 5000 });
      await page.locator('.quick-input-widget .monaco-list-row.focused').filter({ hasText: 'Show Notifications' }).waitFor({ timeout: 5000 });
      await page.keyboard.press('Enter');
      await centre.waitFor({ timeout: 5000 });
    }
    state.centre = await read('.notifications-center .notification-list-item');
  } catch (error) {
    state.centre = [`(could not open the notification centre: ${error instanceof Error ? error.message.split('\n')[0] : error})`];
  }
  return state;
}

/** Saves what explains a failed step in `dir` (screenshots of every window, the extension's logs, notifications) and prints where. */
async function saveFailureEvidence({ dir, pages, userDataDir }) {
  mkdirSync(dir, { recursive: true });
  const shown = (file) => path.relative(ROOT, file);
  // The windows first, as they were when the step failed; reading the notification centre changes them.
  const windows = [];
  for (const [index, page] of pages.entries()) {
    const shot = path.join(dir, `window${index + 1}.png`);
    if (await page.screenshot({ path: shot, timeout: 10_000 }).then(() => true, () => false)) {
      console.log(`      screenshot of window ${index + 1} at the failure: ${shown(shot)}`);
      windows.push({ page, name: `window${index + 1}` });
    }
  }
  for (const log of extensionLogs(userDataDir)) {
    const relative = path.relative(userDataDir, log);
    const copy = path.join(dir, 'logs', relative);
    mkdirSync(path.dirname(copy), { recursive: true });
    copyFileSync(log, copy);
    const all = readFileSync(log, 'utf8').trimEnd().split('\n');
    // the extension host's log: only what went wrong in it
    const host = log.endsWith(EXTENSION_HOST_LOG);
    const lines = (host ? all.filter((line) => /\[(error|warning)\]/.test(line)) : all).slice(-15).map((line) => line.slice(0, 400));
    if (host && lines.length === 0) continue;
    console.log(`      ${relative} (last ${host ? 'errors and warnings' : 'lines'}; whole log: ${shown(copy)}):\n        ${lines.join('\n        ')}`);
  }
  for (const { page, name } of windows) {
    const lines = pageConsoles.get(page) ?? [];
    if (lines.length === 0) continue;
    const file = path.join(dir, `${name}-console.txt`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    console.log(`      ${name}'s console (last errors and warnings; all of them: ${shown(file)}):\n        ${lines.slice(-10).map((line) => line.slice(0, 400)).join('\n        ')}`);
  }
  for (const { page, name } of windows) {
    const notifications = await notificationsState(page);
    writeFileSync(path.join(dir, `${name}-notifications.json`), `${JSON.stringify(notifications, null, 2)}\n`);
    console.log(`      ${name}'s notifications: toasts ${JSON.stringify(notifications.toasts)}; notification centre ${JSON.stringify(notifications.centre)}`);
    const centreShot = path.join(dir, `${name}-notification-centre.png`);
    await page.screenshot({ path: centreShot, timeout: 10_000 }).then(() => console.log(`      ${name} with its notification centre open: ${shown(centreShot)}`), () => {});
  }
}

async function main() {
  const started = Date.now();
  console.log(`[e2e] time zone ${pinMiddayTimeZone()}: about noon there, so no run crosses midnight`);
  const verbose = process.env.RP_E2E_VERBOSE === '1';
  const scale = loadWaitScale('RP_E2E_WAIT_SCALE');
  const timeoutSeconds = Number(process.env.RP_E2E_TIMEOUT || Math.round(480 * scale));
  const waitMs = Math.round(20_000 * scale);
  // The test files run in this process: Workbench reads the page's default wait from here.
  process.env.RP_E2E_WAIT_MS = String(waitMs);
  if (scale > 1) console.log(`[e2e] load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores: waits up to ${waitMs / 1000} s, the run up to ${timeoutSeconds} s`);
  if (!existsSync(EXTENSION_MAIN)) throw new Error(`${path.relative(ROOT, EXTENSION_MAIN)} is missing: run \`npm run build\` first`);
  if (!isHostInstalled()) throw new Error('code-server is not installed: run `npm run host:install` first');

  const files = await compileTests();
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const extensionFolder = `${manifest.publisher}.${manifest.name}-${manifest.version}`;
  mkdirSync(IMAGES_DIR, { recursive: true });
  if (UPDATE_DOCS_IMAGES) console.log(`[e2e] the screenshots replace the documentation's images in ${path.relative(ROOT, IMAGES_DIR)}`);
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
        opened.setDefaultTimeout(waitMs);
        const consoleLines = [];
        pageConsoles.set(opened, consoleLines);
        opened.on('console', (message) => {
          if (verbose) console.log(`[page ${message.type()}] ${message.text()}`);
          if (message.type() !== 'error' && message.type() !== 'warning') return;
          consoleLines.push(`[${message.type()}] ${message.text()}`);
          if (consoleLines.length > 200) consoleLines.shift();
        });
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
        // settings a step wrote while the server was stopped are kept
        server = await startServer({ ...serverOptions, port: server.port, keepUserSettings: true });
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
          const pages = browser.context.pages().filter((open) => !open.isClosed() && open.url() !== 'about:blank');
          await saveFailureEvidence({ dir: path.join(RESULTS_DIR, `${name}-step${index + 1}`), pages, userDataDir: server.userDataDir }).catch((problem) =>
            console.log(`      (the failure's evidence could not all be saved: ${problem instanceof Error ? problem.message : problem})`),
          );
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
