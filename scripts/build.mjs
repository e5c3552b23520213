// Bundles the extension and the command-line tool with esbuild (type checking is `npm run typecheck`).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import bundleAliases from './bundleAliases.cjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  external: ['vscode'],
  alias: bundleAliases,
};

// The command-line tool: one CommonJS bundle (dist/cli/main.js) that dist/cli.js (src/cli/launcher.ts)
// compiles with V8's code cache of the command's last run, so a cold start does not compile its code
// again (Node 20 has no compile cache for modules). Modules a command does not use are bundled but
// never evaluated (esbuild keeps each dynamic import lazy). Whitespace and comments are left out so the
// bundle is ASCII, which the launcher reads as such (a quarter of the time of UTF-8).
const CLI_BUNDLE = 'dist/cli/main.js';

/**
 * Node's modules imported once for the whole bundle. esbuild turns each `import * as fs from 'node:fs'`
 * into a copy of the module's every property (`__toESM`), one per importing file: 79 copies, ~4 ms of
 * a cold start (#14). Here each Node module becomes one module of the bundle that re-exports it, so
 * the copy is made once; `require` calls and the modules' own imports stay plain `require`s.
 */
const NODE_MODULES = new Set(builtinModules);
const oneImportOfNodeModules = {
  name: 'one-import-of-node-modules',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!NODE_MODULES.has(name)) return undefined;
      if (args.namespace === 'node-module') return { path: args.path, external: true };
      // require() and import() as esbuild makes them (an import() stays a require: the launcher's vm.Script has no module loader)
      if (args.kind !== 'import-statement') return undefined;
      return { path: `node:${name}`, namespace: 'node-module' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-module' }, (args) => {
      const name = JSON.stringify(args.path);
      return { contents: `export * from ${name};\nexport default require(${name});\n`, loader: 'js' };
    });
  },
};
const cli = { ...common, entryPoints: ['src/cli/cli.ts'], outfile: CLI_BUNDLE, minifyWhitespace: true, plugins: [oneImportOfNodeModules] };
// dist/cli.js stays the command's path (package.json's bin, the hooks agents' settings run).
const launcher = { ...common, sourcemap: false, entryPoints: ['src/cli/launcher.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } };

/** The launcher reads the bundle as Latin-1: a byte above 127 would change the code it runs. */
function checkAscii() {
  const bytes = fs.readFileSync(CLI_BUNDLE);
  const at = bytes.findIndex((b) => b > 0x7f);
  if (at !== -1) throw new Error(`${CLI_BUNDLE} has a byte that is not ASCII at ${at}: ${JSON.stringify(bytes.subarray(Math.max(0, at - 40), at + 40).toString('utf8'))}`);
}

function finishCli() {
  checkAscii();
  fs.chmodSync('dist/cli.js', 0o755);
  // what agents' hooks run on Linux and macOS (src/hooks/helper/hookHelper.ts)
  fs.copyFileSync('src/hooks/helper/hook-client.sh', 'dist/hook-client.sh');
  fs.chmodSync('dist/hook-client.sh', 0o755);
  fs.copyFileSync('src/cli/recovery-points', 'dist/recovery-points');
  fs.chmodSync('dist/recovery-points', 0o755);
}

// dist/captureProcess.js: the process the extension captures a store's first point in (src/core/capture/captureProcess.ts)
// dist/searchWorker.js: the worker thread the extension's Search History runs in (src/core/history/searchWorker.ts)
const builds = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...common, entryPoints: ['src/core/capture/captureProcessMain.ts'], outfile: 'dist/captureProcess.js' },
  { ...common, entryPoints: ['src/core/history/searchWorkerMain.ts'], outfile: 'dist/searchWorker.js' },
  cli,
  launcher,
];

// earlier builds left ES module chunks named by their hashes: start from an empty folder
fs.rmSync('dist/cli', { recursive: true, force: true });
fs.rmSync('dist/cli.js.map', { force: true });
fs.mkdirSync('dist', { recursive: true });

if (watch) {
  const afterCli = { name: 'check-cli', setup: (build) => build.onEnd((result) => result.errors.length === 0 && fs.existsSync('dist/cli.js') && fs.existsSync(CLI_BUNDLE) && finishCli()) };
  for (const options of builds) {
    const ctx = await esbuild.context(options === cli || options === launcher ? { ...options, plugins: [...(options.plugins ?? []), afterCli] } : options);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  finishCli();
}
