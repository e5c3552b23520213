// The aliases every bundle of the tool's code needs: scripts/build.mjs and the tests that bundle the
// command-line tool themselves. One copy of signal-exit: write-file-atomic `require`s it (its CommonJS
// build) and an open store holds a registration with it (`holdExitHandlers`); an `import` would get its
// ES module build, a second instance whose registration write-file-atomic's copy never sees.
// jsonc-parser's main build (UMD) requires its parts through a `require` esbuild cannot follow: its ES
// module build is bundled instead (Node and the tests load the UMD one, which works unbundled).
const path = require('node:path');

const modules = path.join(__dirname, '..', 'node_modules');

module.exports = {
  'signal-exit': path.join(modules, 'signal-exit', 'dist', 'cjs', 'index.js'),
  'jsonc-parser': path.join(modules, 'jsonc-parser', 'lib', 'esm', 'main.js'),
};
