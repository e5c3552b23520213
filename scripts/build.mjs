// Bundles the extension and the command-line tool with esbuild (type checking is `npm run typecheck`).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';

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
};

// The command-line tool is ES modules split into chunks (dist/cli/): a command loads only the code it
// needs, so a point made by a script or an agent's hook does not parse the MCP server, search or
// patches. The CommonJS packages inside it still call require (each chunk makes its own) and read
// __filename, as storeLocator reads __dirname: both are the module's own (Node ≥ 20.11).
const REQUIRE_SHIM = "import { createRequire as __rpCreateRequire } from 'node:module'; const require = __rpCreateRequire(import.meta.url);";

// dist/cli.js stays the command's path (package.json's bin, the hooks agents' settings run): a
// CommonJS file that starts the modules.
const LAUNCHER = `#!/usr/bin/env node
'use strict';
// The tool is ES modules in ./cli/ (see scripts/build.mjs); this path is the one bin and agents' hooks run.
const path = require('node:path');
const { pathToFileURL } = require('node:url');
import(pathToFileURL(path.join(__dirname, 'cli', 'cli.mjs')).href).catch((error) => {
  process.stderr.write(\`recovery-points: the tool could not be loaded from \${path.join(__dirname, 'cli')} (\${error instanceof Error ? error.message : String(error)}); reinstall it.\\n\`);
  process.exitCode = 1;
});
`;

const cli = {
  ...common,
  format: 'esm',
  splitting: true,
  entryPoints: { cli: 'src/cli/cli.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  banner: { js: REQUIRE_SHIM },
  define: { __filename: 'import.meta.filename', __dirname: 'import.meta.dirname' },
};

// dist/captureProcess.js: the process the extension captures a store's first point in (src/core/capture/captureProcess.ts)
const builds = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...common, entryPoints: ['src/core/capture/captureProcessMain.ts'], outfile: 'dist/captureProcess.js' },
  cli,
];

// chunks of earlier builds are named by other hashes: start from an empty folder
fs.rmSync('dist/cli', { recursive: true, force: true });
fs.rmSync('dist/cli.js.map', { force: true });
fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync('dist/cli.js', LAUNCHER, { mode: 0o755 });

if (watch) {
  for (const options of builds) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
