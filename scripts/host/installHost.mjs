// Installs what running the extension in a real VS Code needs on this kind of machine (Debian,
// Node 20, only the npm registry and Debian's archive reachable), idempotently:
//   1. Debian packages libkrb5-dev (headers for a native module), ripgrep, chromium — apt-get runs
//      only when one of them is missing;
//   2. code-server (the VS Code server with the web workbench and the real Node extension host)
//      into the git-ignored .cache/code-server/, with its own `npm install --prefix`, outside the
//      project's dependencies. Skipped when the pinned version is installed and was checked.
// Usage: node scripts/host/installHost.mjs [--force] [--verbose]
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CODE_SERVER_DIR,
  CODE_SERVER_VERSION,
  HOST_DIR,
  INSTALLED_MARKER,
  isHostInstalled,
  startServer,
} from './codeServer.mjs';

const log = (message) => console.log(`[host] ${message}`);

/** The ripgrep that code-server 4.100.3 pins (lib/vscode/npm-shrinkwrap.json) and its asset. */
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_RELEASE = 'v13.0.0-10';

/**
 * npm 11 (11.19 here) has an install-script policy: install scripts of dependencies that
 * package.json's `allowScripts` does not approve are reported ("not yet covered by allowScripts").
 * This npm still runs them (only entries set to `false` are skipped); a later npm may skip them.
 * The cache's package.json approves the two top-level packages whose scripts must run. The nested
 * `npm install`s that code-server's postinstall runs in lib/vscode and lib/vscode/extensions have
 * their own package.json (no allowScripts), so their packages (node-pty, @vscode/spdlog,
 * @vscode/ripgrep, kerberos, ...) run as "not yet covered". They cannot be approved from outside:
 * npm hands its config to lifecycle scripts as npm_config_* variables, and a nested install that
 * gets `allow-scripts` that way fails with EALLOWSCRIPTS ("--allow-scripts is not allowed in
 * project-scoped installs"). BUILT_FILES below catches any skipped script.
 */
const TOP_LEVEL_SCRIPTS = ['code-server', 'argon2'];

/** Files that exist only when code-server's and VS Code's install scripts have run. */
const BUILT_FILES = [
  'lib/vscode/node_modules/node-pty/build/Release/pty.node',
  'lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node',
  'lib/vscode/node_modules/@vscode/ripgrep/bin/rg',
  'lib/vscode/node_modules/kerberos/build/Release/kerberos.node',
  'lib/vscode/node_modules.asar',
  'lib/vscode/bin/remote-cli/code-server',
  'lib/vscode/extensions/node_modules/typescript/package.json',
];

function commandExists(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function debianPackageInstalled(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}

/** Step 1: the Debian packages, through apt-get only when something is missing. */
function installDebianPackages() {
  const missing = [];
  if (!debianPackageInstalled('libkrb5-dev')) missing.push('libkrb5-dev');
  if (!commandExists('rg')) missing.push('ripgrep');
  if (!commandExists('chromium')) missing.push('chromium');
  // Native modules (node-pty, argon2, spdlog, kerberos) are compiled from source.
  if (!commandExists('make') || !commandExists('g++')) missing.push('build-essential');
  if (!commandExists('python3')) missing.push('python3');
  if (missing.length === 0) {
    log('Debian packages: libkrb5-dev, ripgrep, chromium present');
    return;
  }
  if (!commandExists('apt-get')) {
    throw new Error(`missing ${missing.join(', ')} and there is no apt-get: install them by hand`);
  }
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptGet = (args) => {
    const [command, ...rest] = [...sudo, 'apt-get', ...args];
    const result = spawnSync(command, rest, { env, encoding: 'utf8' });
    if (result.status !== 0) {
      console.log(`${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').slice(-40).join('\n'));
      throw new Error(`apt-get ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
    }
  };
  log(`Debian packages: installing ${missing.join(' ')} (apt-get update, apt-get install)`);
  const started = Date.now();
  aptGet(['update', '-qq']);
  aptGet(['install', '-y', '-qq', ...missing]);
  log(`Debian packages: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * @vscode/ripgrep's postinstall downloads ripgrep from GitHub, which is unreachable here. It first
 * looks for the release asset in its cache folder: a tar.gz holding Debian's rg is used instead.
 */
function seedRipgrepCache() {
  const target = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[os.arch()];
  if (process.platform !== 'linux' || !target) {
    log(`ripgrep cache: not seeded on ${process.platform}/${os.arch()} (the postinstall downloads it)`);
    return;
  }
  const cacheDir = path.join(os.tmpdir(), `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const asset = path.join(cacheDir, `ripgrep-${RIPGREP_RELEASE}-${target}.tar.gz`);
  const rg = spawnSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).stdout.trim();
  const staging = mkdtempSync(path.join(os.tmpdir(), 'rp-rg-'));
  try {
    copyFileSync(rg, path.join(staging, 'rg'));
    mkdirSync(cacheDir, { recursive: true });
    run('tar', ['-czf', asset, '-C', staging, 'rg']);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  log(`ripgrep cache: ${asset} holds ${rg}`);
}

/** Runs npm with its output going to a log file (shown when it fails, or with --verbose). */
function runNpm(args, env, logFile, verbose) {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk) => {
        chunks.push(chunk);
        if (verbose) process.stdout.write(chunk);
      });
    }
    child.on('error', reject);
    child.on('close', (code) => {
      const output = Buffer.concat(chunks).toString('utf8');
      writeFileSync(logFile, output);
      if (code === 0) resolve(output);
      else {
        if (!verbose) console.log(output.split('\n').slice(-60).join('\n'));
        reject(new Error(`npm ${args.join(' ')} failed (exit ${code}); full output in ${logFile}`));
      }
    });
  });
}

/** Step 2: code-server into .cache/code-server/ with its own npm install. */
async function installCodeServer({ force, verbose }) {
  if (!force && isHostInstalled()) {
    log(`code-server ${CODE_SERVER_VERSION}: already installed in ${path.relative(process.cwd(), HOST_DIR) || HOST_DIR}`);
    return false;
  }
  const started = Date.now();
  log(`code-server ${CODE_SERVER_VERSION}: installing into ${HOST_DIR} (about a minute)`);
  // Start clean: a half-finished install (no marker) is not trusted.
  rmSync(INSTALLED_MARKER, { force: true });
  rmSync(path.join(HOST_DIR, 'node_modules'), { recursive: true, force: true });
  rmSync(path.join(HOST_DIR, 'package-lock.json'), { force: true });
  mkdirSync(HOST_DIR, { recursive: true });
  // Its own package.json, so npm never walks up to the project's. Its allowScripts approves, under
  // npm 11's install-script policy, the top-level packages whose install scripts must run.
  writeFileSync(
    path.join(HOST_DIR, 'package.json'),
    `${JSON.stringify(
      {
        name: 'recovery-points-vscode-host',
        private: true,
        description: 'code-server for running the extension in a real VS Code (scripts/host/installHost.mjs)',
        dependencies: { 'code-server': CODE_SERVER_VERSION },
        allowScripts: Object.fromEntries(TOP_LEVEL_SCRIPTS.map((name) => [name, true])),
      },
      null,
      2,
    )}\n`,
  );
  seedRipgrepCache();

  const env = {
    ...process.env,
    // code-server's postinstall refuses root without it (npm 11 warns "Unknown env config
    // unsafe-perm", yet the value still reaches the script).
    npm_config_unsafe_perm: 'true',
    // node-pty's install runs `npx node-gyp`; this machine's npm config has yes=false.
    npm_config_yes: 'true',
    // Install scripts are the point of this install; a user's ignore-scripts=true would break it.
    npm_config_ignore_scripts: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  // Native modules build against the local Node headers (Debian's nodejs ships them in /usr).
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h') && process.execPath.startsWith('/usr/')) {
    env.npm_config_nodedir = '/usr';
  }
  const logFile = path.join(HOST_DIR, 'install.log');
  const output = await runNpm(['install', '--prefix', HOST_DIR, '--no-save', '--foreground-scripts', '--loglevel=warn'], env, logFile, verbose);
  const unreviewed = output.split('\n').filter((line) => /^npm warn install-scripts {3}\S/.test(line)).length;
  if (unreviewed) log(`npm: ${unreviewed} nested packages' install scripts ran "not yet covered by allowScripts" (see ${logFile})`);

  const absent = BUILT_FILES.filter((file) => !existsSync(path.join(CODE_SERVER_DIR, file)));
  if (absent.length) {
    throw new Error(
      `code-server installed, but its install scripts did not finish (missing ${absent.join(', ')}); see ${logFile}. ` +
        'If npm skipped scripts "not covered by allowScripts", npm_config_dangerously_allow_all_scripts=true lets them run.',
    );
  }
  log(`code-server ${CODE_SERVER_VERSION}: installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return true;
}

/** Starts the installed server once and checks that it serves the workbench. */
async function checkServerStarts() {
  const started = Date.now();
  const server = await startServer();
  try {
    log(`code-server ${CODE_SERVER_VERSION}: starts and serves the workbench (authority ${server.remoteAuthority}, ${Date.now() - started} ms)`);
  } finally {
    await server.stop();
  }
}

export async function installHost({ force = false, verbose = false } = {}) {
  installDebianPackages();
  const installed = await installCodeServer({ force, verbose });
  if (installed) {
    await checkServerStarts();
    writeFileSync(INSTALLED_MARKER, `${new Date().toISOString()}\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  installHost({ force: process.argv.includes('--force'), verbose: process.argv.includes('--verbose') })
    .then(() => {
      log(`ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      process.exit(0); // fetch's idle keep-alive sockets would hold the process for seconds
    })
    .catch((error) => {
      console.error(`[host] install failed: ${error instanceof Error ? error.message : error}`);
      process.exit(1);
    });
}
