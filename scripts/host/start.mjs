// `npm start`: opens the extension in a real VS Code in your browser.
//   1. installs the host if needed (installHost.mjs: Debian packages, code-server in .cache/);
//   2. builds the extension (`npm run build`);
//   3. serves VS Code (the VS Code server from code-server) on http://127.0.0.1:8080 with this
//      checkout installed as an extension (a link to it in the extensions folder, so a plain
//      http://127.0.0.1:8080 loads it), opening the folder given, or samples/workspace/.
// It is the editor people use: modal dialogs show (no smoke-test driver), and its data — user
// settings, workspace storage (each folder's recovery points), logs, extensions — stays in
// .cache/editor/ (git-ignored) from one run to the next. Delete that folder to start afresh.
// Runs until Ctrl+C, then stops the server and everything it started.
//
// Usage: npm start [-- FOLDER | FILE.code-workspace] [--port N] [--no-build]     (or PORT=N npm start)
//   --no-build  uses dist/ as it is (for example while `npm run watch` keeps it built)
// After changing the code: `npm run build` (or keep `npm run watch` running), then run
// "Developer: Reload Window" in the browser.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readlink, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CODE_SERVER_VERSION, ROOT, isPortInUse, startServer } from './codeServer.mjs';
import { installHost } from './installHost.mjs';

const SAMPLE_WORKSPACE = path.join(ROOT, 'samples', 'workspace');
/**
 * Where `npm start` keeps its data between runs: `user-data/` (settings, logs, and
 * `User/workspaceStorage/<id>/recovery-points.recovery-points/`, each folder's store), `server-data/`
 * and `extensions/`. The command-line tool looks for stores in `user-data/` too.
 */
export const EDITOR_DATA_DIR = path.join(ROOT, '.cache', 'editor');

/** The extension's folder name in an extensions folder (`publisher.name-version`). */
function extensionFolderName() {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  return `${manifest.publisher}.${manifest.name}-${manifest.version}`;
}

/** Links this checkout into `<dataDir>/extensions`, replacing a link left by another checkout or version. */
async function linkExtension(dataDir) {
  const link = path.join(dataDir, 'extensions', extensionFolderName());
  const target = await readlink(link).catch(() => undefined);
  if (target === ROOT) return;
  if (target !== undefined || existsSync(link)) await rm(link, { recursive: true, force: true });
  await symlink(ROOT, link, 'dir');
}

/**
 * Starts VS Code as `npm start` does (dist/ must be built): the bare VS Code server without the
 * smoke-test driver, this checkout linked into its extensions folder, `folder` opened by a plain
 * http://127.0.0.1:PORT/, and its data in `dataDir` (default .cache/editor/), kept when it stops and
 * reused the next time. VS Code names a folder's workspace storage after the address it was opened by:
 * http://127.0.0.1:PORT/ and http://127.0.0.1:PORT/?folder=FOLDER are two (measured), and so is another
 * port, so the same folder opened another way gets a storage, and a store, of its own.
 * Resolves with codeServer.mjs's server (`baseUrl`, `userDataDir`, `stop()`, `exited`).
 */
export async function startEditor({ folder, port = 0, dataDir = EDITOR_DATA_DIR, onOutput } = {}) {
  return startServer({
    port,
    defaultFolder: folder,
    dataDir,
    keepUserSettings: true,
    smokeTestDriver: false,
    onOutput,
    prepare: linkExtension,
  });
}

function parseArguments(argv) {
  let port = Number(process.env.PORT || 8080);
  let folder;
  let build = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') port = Number(argv[++i]);
    else if (arg.startsWith('--port=')) port = Number(arg.slice('--port='.length));
    else if (arg === '--no-build') build = false;
    else if (arg === '--help' || arg === '-h') {
      console.log('Usage: npm start -- [FOLDER | FILE.code-workspace] [--port N] [--no-build]   (default: samples/workspace, port 8080 or $PORT)');
      process.exit(0);
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else if (folder === undefined) folder = arg;
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`not a port: ${port}`);
  // `npm start -- FOLDER` runs in the project folder; a relative FOLDER is meant from where npm ran.
  const base = process.env.INIT_CWD || process.cwd();
  folder = folder === undefined ? SAMPLE_WORKSPACE : path.resolve(base, folder);
  // a multi-root workspace: its `.code-workspace` file (code-server opens it as the default)
  const workspaceFile = folder.endsWith('.code-workspace') && existsSync(folder) && statSync(folder).isFile();
  if (!workspaceFile && (!existsSync(folder) || !statSync(folder).isDirectory())) throw new Error(`not a folder or a .code-workspace file: ${folder}`);
  return { port, folder, build };
}

async function main() {
  const { port, folder, build } = parseArguments(process.argv.slice(2));
  if (await isPortInUse(port)) throw new Error(`port ${port} is in use: stop what runs there, or use --port N`);

  await installHost();
  if (build) {
    console.log('[start] building the extension (npm run build)');
    const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (result.status !== 0) throw new Error('npm run build failed');
  }
  if (!existsSync(path.join(ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: npm run build');

  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const server = await startEditor({ folder, port });

  let stopping = false;
  const stop = async (reason) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[start] ${reason}: stopping VS Code`);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('Ctrl+C'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  server.exited.then((info) => {
    if (stopping) return;
    console.error(`[start] the VS Code server exited (code ${info.code}, signal ${info.signal})`);
    process.exit(1);
  });

  console.log('');
  console.log(`[start] VS Code (code-server ${CODE_SERVER_VERSION}) with ${manifest.displayName} is running on ${folder}`);
  console.log(`[start] open  ${server.baseUrl}/`);
  // The address is part of the folder's identity in VS Code's workspace storage: the same folder opened
  // by another address (?folder=…, another port, localhost) gets another store, its history not shown here.
  console.log(`[start] always open ${path.basename(folder)} by this address: another one (?folder=…, another port) shows another history`);
  console.log(`[start] its data (settings, recovery points) stays in ${path.relative(ROOT, EDITOR_DATA_DIR)}/ between runs`);
  console.log('[start] after a change: npm run build (or npm run watch), then "Developer: Reload Window"');
  console.log('[start] Ctrl+C stops it');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    console.error(`[start] FAILED: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
