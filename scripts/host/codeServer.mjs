// Starts and stops a real VS Code for the extension: the VS Code server bundled in code-server
// (installed by installHost.mjs into .cache/code-server/), serving the web workbench with the
// real Node extension host on 127.0.0.1. Shared by runHostTests.mjs, start.mjs and installHost.mjs.
// See shared HOST.md for the facts this is built on (payload URL, remoteAuthority, process group).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder (this file is scripts/host/codeServer.mjs). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** code-server 4.100.3 bundles VS Code 1.100.3 and runs on Node 20 (see HOST.md). */
export const CODE_SERVER_VERSION = '4.100.3';
/** Git-ignored folder holding code-server's own npm install (never the project's node_modules). */
export const HOST_DIR = path.join(ROOT, '.cache', 'code-server');
export const CODE_SERVER_DIR = path.join(HOST_DIR, 'node_modules', 'code-server');
/** Written by installHost.mjs once an install has been checked; removed before reinstalling. */
export const INSTALLED_MARKER = path.join(HOST_DIR, `.installed-${CODE_SERVER_VERSION}`);

/** Headless Debian Chromium, with the flags HOST.md lists. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Quiet user settings: no welcome page, no telemetry, no update or gallery look-ups. */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
};

/** Whether the pinned code-server is installed and was checked by installHost.mjs. */
/**
 * Waits in the host and end-to-end tests are bounds on what a person would call stuck, measured on an
 * idle machine; they assert no speed. On a machine busier than its cores (helpers and CI jobs sharing
 * 2 cores) a workbench reload or a tree's first listing took several times longer (at a load average
 * of 31 on 2 cores the extension host took 31 s to activate after a restart, 7 s at 9), so each bound
 * is multiplied by the load average per core at the start, between 1 and 5; `variable` (a number)
 * overrides it.
 */
export function loadWaitScale(variable) {
  const set = Number(process.env[variable]);
  if (set > 0) return set;
  const perCore = os.loadavg()[0] / Math.max(1, os.cpus().length);
  return Math.min(5, Math.max(1, Math.round(perCore * 10) / 10));
}

/**
 * Sets this process's time zone (and so its children's: the server, the extension host, Chromium) to
 * the one where it is now about noon, so that no test run crosses midnight: the points view groups
 * points by local day, and a run across midnight finds yesterday's points in a collapsed group. What
 * the view does at midnight is a test of its own, with its own clock. Returns the zone.
 */
export function pinMiddayTimeZone() {
  const offset = 12 - new Date().getUTCHours(); // -11 … +12 hours from UTC
  // the Etc zones' signs are the POSIX ones: Etc/GMT-12 is twelve hours ahead of UTC
  process.env.TZ = offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  return process.env.TZ;
}

export function isHostInstalled() {
  if (!existsSync(INSTALLED_MARKER)) return false;
  try {
    const pkg = JSON.parse(readFileSync(path.join(CODE_SERVER_DIR, 'package.json'), 'utf8'));
    return pkg.version === CODE_SERVER_VERSION;
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function findFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something already listens on 127.0.0.1:port. */
export function isPortInUse(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function unescapeHtml(text) {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Reads the workbench configuration (remoteAuthority, ...) from the served page's HTML. */
export function parseWorkbenchConfiguration(html) {
  const tag = html.match(/<meta[^>]*id="vscode-workbench-web-configuration"[^>]*>/);
  const attribute = tag?.[0].match(/data-settings="([^"]*)"/);
  if (!attribute) throw new Error('the served page has no vscode-workbench-web-configuration');
  return JSON.parse(unescapeHtml(attribute[1]));
}

/** A path for a URL query, keeping its slashes readable. */
function encodePath(p) {
  return encodeURIComponent(p).replace(/%2F/g, '/');
}

/**
 * Starts the VS Code server on 127.0.0.1:port, detached in its own process group, with fresh
 * user-data, server-data and extensions folders under a temporary folder.
 *
 * @param {object} [options]
 * @param {number} [options.port] 0 or absent: a free port.
 * @param {'server' | 'code-server'} [options.kind] 'server' (default): the bundled VS Code server
 *   (`lib/vscode/out/server-main.js`); 'code-server': the code-server command line.
 * @param {Record<string, unknown>} [options.userSettings] Extra user settings.
 * @param {Record<string, string>} [options.env] Extra environment (reaches the extension host).
 * @param {(line: string) => void} [options.onOutput] Receives the server's output lines.
 * @param {string} [options.defaultFolder] The folder (or `.code-workspace` file) a plain http://127.0.0.1:PORT/ opens.
 * @param {string} [options.dataDir] Use this folder for the server's data instead of a temp one
 *   (kept when the server stops).
 * @param {boolean} [options.keepUserSettings] Leave an existing `user-data/User/settings.json` as it
 *   is (the settings a person changed in a kept data folder); written only when missing.
 * @param {boolean} [options.smokeTestDriver] The bare server's `--enable-smoke-test-driver` (default
 *   true, for the test runners): the workbench then refuses every modal dialog ("refused to show
 *   dialog in tests"). False for a VS Code a person uses (`npm start`).
 * @param {(dataDir: string) => Promise<void>} [options.prepare] Runs before the server starts
 *   (for example to put extensions into `<dataDir>/extensions`).
 * @param {number} [options.startTimeoutMs] How long to wait until it serves (default 60 s).
 */
export async function startServer(options = {}) {
  const kind = options.kind ?? 'server';
  const port = options.port || (await findFreePort());
  if (!existsSync(CODE_SERVER_DIR)) {
    throw new Error(`code-server is not installed in ${HOST_DIR}: run node scripts/host/installHost.mjs`);
  }
  const ownsDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'rp-host-')));
  const userDataDir = path.join(dataDir, 'user-data');
  const serverDataDir = path.join(dataDir, 'server-data');
  const extensionsDir = path.join(dataDir, 'extensions');
  // VS Code 1.100's server does not create the parents of these folders itself.
  for (const dir of [path.join(userDataDir, 'User'), serverDataDir, extensionsDir]) {
    await mkdir(dir, { recursive: true });
  }
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  if (!options.keepUserSettings || !existsSync(settingsFile)) {
    const settings = { ...QUIET_SETTINGS, ...options.userSettings };
    await writeFile(settingsFile, JSON.stringify(settings, null, 2));
  }
  if (options.prepare) await options.prepare(dataDir);

  let args;
  if (kind === 'code-server') {
    const configFile = path.join(dataDir, 'config.yaml');
    await writeFile(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
    args = [
      path.join(CODE_SERVER_DIR, 'out', 'node', 'entry.js'),
      '--config', configFile,
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      ...(options.defaultFolder ? [options.defaultFolder] : []),
    ];
  } else {
    args = [
      path.join(CODE_SERVER_DIR, 'lib', 'vscode', 'out', 'server-main.js'),
      '--host', '127.0.0.1',
      '--port', String(port),
      '--without-connection-token',
      '--accept-server-license-terms',
      ...(options.smokeTestDriver === false ? [] : ['--enable-smoke-test-driver']),
      '--disable-telemetry',
      '--disable-workspace-trust',
      '--user-data-dir', userDataDir,
      '--server-data-dir', serverDataDir,
      '--extensions-dir', extensionsDir,
      ...(options.defaultFolder ? [options.defaultFolder.endsWith('.code-workspace') ? '--default-workspace' : '--default-folder', options.defaultFolder] : []),
    ];
  }

  // Variables of an enclosing VS Code (terminal, debug session) must not leak into this one.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('VSCODE_') && key !== 'ELECTRON_RUN_AS_NODE'),
  );
  Object.assign(env, options.env);
  const child = spawn(process.execPath, args, {
    cwd: dataDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });

  const recent = [];
  const onLine = (line) => {
    recent.push(line);
    if (recent.length > 50) recent.shift();
    options.onOutput?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
  }
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exitInfo && child.pid) {
      // The whole group: the server leaves a --type=fileWatcher child behind otherwise.
      const killGroup = (signal) => {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      };
      killGroup('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      killGroup('SIGKILL');
      if (!done) await Promise.race([exited, sleep(2000)]);
    }
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let html = null;
  try {
    while (!html) {
      if (exitInfo) {
        throw new Error(
          `the server exited (code ${exitInfo.code}, signal ${exitInfo.signal}) before serving:\n${recent.join('\n')}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`the server did not serve ${baseUrl} in time:\n${recent.join('\n')}`);
      try {
        const response = await globalThis.fetch(`${baseUrl}/?folder=${encodePath(dataDir)}`, { redirect: 'follow' });
        const text = await response.text();
        if (response.ok && text.includes('vscode-workbench-web-configuration')) html = text;
      } catch {
        // not listening yet
      }
      if (!html) await sleep(200);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const configuration = parseWorkbenchConfiguration(html);
  const remoteAuthority = configuration.remoteAuthority;
  if (!remoteAuthority) throw new Error('the workbench configuration has no remoteAuthority');

  /**
   * The workbench URL that opens `folder` (or the `.code-workspace` file `workspace`), loading the
   * extension under development from `extensionDevelopmentPath` and, if given, running the test entry
   * `extensionTestsPath`.
   */
  const workbenchUrl = ({ folder, workspace, extensionDevelopmentPath, extensionTestsPath } = {}) => {
    const query = [];
    if (folder) query.push(`folder=${encodePath(folder)}`);
    if (workspace) query.push(`workspace=${encodePath(workspace)}`);
    const payload = [];
    if (extensionDevelopmentPath) {
      payload.push(['extensionDevelopmentPath', `vscode-remote://${remoteAuthority}${extensionDevelopmentPath}`]);
    }
    if (extensionTestsPath) {
      payload.push(['extensionTestsPath', `vscode-remote://${remoteAuthority}${extensionTestsPath}`]);
    }
    if (payload.length) query.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
    return `${baseUrl}/${query.length ? `?${query.join('&')}` : ''}`;
  };

  return {
    kind,
    port,
    pid: child.pid,
    baseUrl,
    remoteAuthority,
    dataDir,
    userDataDir,
    serverDataDir,
    extensionsDir,
    exited,
    workbenchUrl,
    stop,
  };
}

/** Launches headless Debian Chromium through playwright-core with a fresh profile. */
export async function launchChromium({ headless = true } = {}) {
  const { chromium } = await import('playwright-core');
  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'rp-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  const close = async () => {
    await context.close().catch(() => {});
    await rm(profileDir, { recursive: true, force: true }).catch(() => {});
  };
  return { context, close };
}
