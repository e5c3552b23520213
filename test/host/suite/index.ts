// Test entry for the extension host, with @vscode/test-electron's contract: VS Code loads the
// compiled file (out/test/host/index.js) given as extensionTestsPath and awaits `run()`; a rejection
// makes the run fail. Used both by scripts/host/runHostTests.mjs (code-server + headless Chromium)
// and by scripts/host/testElectron.mjs (desktop VS Code).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/**
 * The compiled `*.test.js` files of one suite, in a stable order: those directly in this folder, or
 * in its subfolder `suite` (RP_HOST_TEST_SUITE: `multiRoot` needs a .code-workspace with two folders,
 * `movedFolder` a moved folder's history beside the workspace; scripts/host/runHostTests.mjs makes both).
 */
function findTestFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.js'))
    .sort()
    .map((file) => path.join(dir, file));
}

export async function run(): Promise<void> {
  const grep = process.env.RP_HOST_TEST_GREP;
  const mocha = new Mocha({
    ui: 'tdd',
    reporter: 'spec',
    color: false,
    timeout: 30_000 * (Number(process.env.RP_HOST_WAIT_SCALE) || 1),
    ...(grep ? { grep } : {}),
  });
  const dir = path.join(__dirname, process.env.RP_HOST_TEST_SUITE ?? '');
  const files = findTestFiles(dir);
  if (files.length === 0) throw new Error(`no *.test.js files in ${dir}`);
  for (const file of files) mocha.addFile(file);
  await mocha.loadFilesAsync();

  const stats = await new Promise<Mocha.Stats>((resolve) => {
    const runner = mocha.run(() => resolve(runner.stats ?? { passes: 0, failures: 0, pending: 0 } as Mocha.Stats));
  });
  const skipped = stats.pending ? `, ${stats.pending} skipped` : '';
  // The plain closing line (runHostTests.mjs repeats it as the last line of its output).
  console.log(`${stats.passes} passed, ${stats.failures} failed${skipped}`);
  if (stats.failures > 0) throw new Error(`${stats.failures} of the extension-host tests failed`);
}
