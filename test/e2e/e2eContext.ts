// What scripts/host/runE2E.mjs hands each step of a test file.
import type { Page } from 'playwright-core';

export interface E2EContext {
  /** The first window: a browser page on the workbench of the workspace. */
  readonly page: Page;
  /** The checkout (dist/extension.js and dist/cli.js are built). */
  readonly root: string;
  /** The temporary copy of test/e2e/fixtures/workspace the workbench opened. */
  readonly workspace: string;
  /** test/e2e/fixtures/workspace. */
  readonly fixture: string;
  /** Where the steps' screenshots for the documentation go: test-results/screenshots/ (git-ignored), docs/images/ with `--update-docs-images`. */
  readonly imagesDir: string;
  /** The server's user-data folder (kept across restarts): `User/workspaceStorage/<id>/<extension id>` is the store. */
  readonly userDataDir: string;
  /** Opens another window (browser page) on the workspace: the server gives it its own extension host. */
  newPage(): Promise<Page>;
  /** Stops the server (every extension host ends), runs `whileStopped`, starts it again on the same data folder and port (user settings as `whileStopped` left them), and reopens `page`. */
  restartServer(whileStopped?: () => Promise<void>): Promise<void>;
}

export interface E2EStep {
  readonly name: string;
  run(context: E2EContext): Promise<void>;
}
