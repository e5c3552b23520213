// Runs the extension-host tests in desktop VS Code (Electron) with @vscode/test-electron: the SAME
// compiled test entry as runHostTests.mjs (out/test/host/index.js, mocha, test/host/suite/), the
// SAME temporary copy of test/host/fixtures/workspace/ as the workspace, the same environment
// (RP_HOST_TEST_WORKSPACE, and RP_HOST_TEST_GREP when set). It makes runHostTests.mjs' "folder" run
// only: the "workspace" (multiRoot/) and "moved" (movedFolder/) runs are not wired up here yet.
//
// For machines that can download VS Code: test-electron fetches a build from Microsoft's update
// service into .vscode-test/ (git-ignored) the first time. It cannot run on machines that reach
// only package registries (ours): there, `npm run test:host` runs the same suite in code-server.
//
// Usage: npm run build && npm run test:electron
// Environment: VSCODE_TEST_VERSION  VS Code to test against: '1.100.3' (default, the version
//                                   test:host runs and engines.vscode's lower bound), 'stable',
//                                   'insiders' or another version
//              VSCODE_EXECUTABLE    a VS Code executable already on the machine (no download)
//              RP_HOST_TEST_GREP    mocha grep
// Linux without a display: runs itself under `xvfb-run -a` when xvfb-run exists (Debian package
// xvfb); otherwise start Xvfb and set DISPLAY first.
// Exit code: 0 when every test passed, otherwise non-zero.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, pinMiddayTimeZone } from './codeServer.mjs';
import { EXTENSION_MAIN, TEST_ENTRY, compileHostTests, copyFixtureWorkspace } from './runHostTests.mjs';

const DEFAULT_VERSION = '1.100.3';

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

async function main() {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.RP_UNDER_XVFB && hasCommand('xvfb-run')) {
    const result = spawnSync('xvfb-run', ['-a', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, RP_UNDER_XVFB: '1' },
    });
    return result.status ?? 1;
  }
  if (!existsSync(EXTENSION_MAIN)) {
    throw new Error(`${path.relative(ROOT, EXTENSION_MAIN)} is missing: run \`npm run build\` first`);
  }
  console.log(`[electron] time zone ${pinMiddayTimeZone()}: about noon there, so no run crosses midnight`);
  const count = await compileHostTests();
  console.log(`[electron] compiled the test entry and ${count} test file(s)`);

  const { runTests } = await import('@vscode/test-electron');
  const fixture = await copyFixtureWorkspace();
  try {
    const options = {
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: TEST_ENTRY,
      extensionTestsEnv: {
        RP_HOST_TEST_WORKSPACE: fixture.workspace,
        ...(process.env.RP_HOST_TEST_GREP ? { RP_HOST_TEST_GREP: process.env.RP_HOST_TEST_GREP } : {}),
      },
      // The workspace first; no other extension, no welcome page, no trust prompt.
      launchArgs: [
        fixture.workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-telemetry',
      ],
    };
    if (process.env.VSCODE_EXECUTABLE) options.vscodeExecutablePath = process.env.VSCODE_EXECUTABLE;
    else options.version = process.env.VSCODE_TEST_VERSION || DEFAULT_VERSION;
    // runTests rejects (TestRunFailedError) when VS Code exits non-zero, i.e. when a test failed.
    return await runTests(options);
  } finally {
    await fixture.remove();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[electron] FAILED: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  },
);
