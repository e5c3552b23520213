import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { bundleIdentity, codeCacheFile, readCodeCache, writeCodeCache } from './codeCache';

/**
 * `dist/cli.js`, the path package.json's bin and agents' hooks run: compiles the tool's bundle
 * (`dist/cli/main.js`, CommonJS, all ASCII: scripts/build.mjs checks it) with V8's code cache of the
 * same command's last run (codeCache.ts) and runs it as Node runs a CommonJS module. The bundle
 * requires only Node's own modules, which this file's `require` loads as well as any.
 */
const bundle = join(__dirname, 'cli', 'main.js');

type ModuleFunction = (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;

function launch(): void {
  let source: string;
  let identity: string;
  try {
    const fd = openSync(bundle, 'r');
    try {
      identity = bundleIdentity(fstatSync(fd));
      source = readFileSync(fd, 'latin1');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return cannotLoad(error);
  }
  const cacheFile = codeCacheFile(bundle, process.argv[2]);
  const cachedData = cacheFile ? readCodeCache(cacheFile, identity) : undefined;
  let script: Script;
  let run: ModuleFunction;
  try {
    script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
    run = script.runInThisContext() as ModuleFunction;
  } catch (error) {
    return cannotLoad(error);
  }
  if (cacheFile && (!cachedData || script.cachedDataRejected)) {
    // made at the end of a successful run, so it holds the bytecode of every function the command used
    process.once('exit', (code) => {
      if (code === 0) writeCodeCache(cacheFile, identity, script.createCachedData());
    });
  }
  const module = { exports: {}, filename: bundle, id: bundle, loaded: false };
  try {
    run.call(module.exports, module.exports, require, module, bundle, dirname(bundle));
  } catch (error) {
    cannotLoad(error);
  }
}

function cannotLoad(error: unknown): void {
  process.stderr.write(`recovery-points: the tool could not be loaded from ${dirname(bundle)} (${error instanceof Error ? error.message : String(error)}); reinstall it.\n`);
  process.exitCode = 1;
}

launch();
