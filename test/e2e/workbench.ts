// What a person does in the VS Code workbench, as Playwright actions on the real page: the activity
// bar, the command palette and quick inputs, trees, editors, dialogs. Every step waits for what it
// needs to see (a selector, a text); nothing sleeps.
import type { Locator, Page } from 'playwright-core';

/** Playwright's default wait, which the runner sets for every page and hands on (scripts/host/runE2E.mjs). */
const DEFAULT_WAIT_MS = Number(process.env.RP_E2E_WAIT_MS) || 20_000;

export class Workbench {
  constructor(readonly page: Page) {}

  /** The workbench is up: activity bar and status bar drawn. */
  async ready(): Promise<void> {
    await this.page.locator('.monaco-workbench .part.activitybar').waitFor();
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor();
  }

  /** Clicks a view container in the activity bar by its name ("Recovery Points", "Explorer"). */
  async openActivity(name: string): Promise<void> {
    const item = this.page.locator(`.part.activitybar .action-item a.action-label[aria-label^="${name}"]`).first();
    await item.waitFor();
    const title = this.page.locator('.part.sidebar .composite.title, .part.sidebar .pane-header').filter({ hasText: new RegExp(name, 'i') }).first();
    // Clicking the container that is shown hides it, and after a reload the workbench may still be
    // restoring the side bar when we look: click only while it is not shown, and look again after each click.
    for (let attempt = 0; attempt < 4; attempt++) {
      if (await title.isVisible()) return;
      const shown = this.page.locator(`.part.activitybar .action-item.checked a.action-label[aria-label^="${name}"]`);
      if ((await shown.count()) === 0 || !(await this.page.locator('.part.sidebar').isVisible())) await item.click();
      if (await title.waitFor({ timeout: 3000 }).then(() => true, () => false)) return;
    }
    await title.waitFor();
  }

  /** The rows of the trees in the side bar. */
  sideBarRows(): Locator {
    return this.page.locator('.part.sidebar .monaco-list-row[role="treeitem"]');
  }

  /** A row of the side bar's tree whose accessible label matches. */
  treeRow(label: string | RegExp): Locator {
    return this.sideBarRows().filter({ has: this.page.locator('.label-name, .monaco-icon-label') }).filter({ hasText: label }).first();
  }

  /** The quick input (command palette, quick pick, input box) when it is open. */
  quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Runs a command from the command palette (F1), by its full title ("Recovery Points: Verify Store"). */
  async runCommand(title: string): Promise<void> {
    const row = this.quickInput().locator('.monaco-list-row.focused').filter({ hasText: title });
    const deadline = Date.now() + DEFAULT_WAIT_MS;
    // The palette closes when something else takes the focus while it opens (seen once at a load of 3,
    // right after a window started on a damaged store): open it again, until the wait is used up.
    for (;;) {
      const input = await this.openQuickOpen();
      const left = Math.max(1, deadline - Date.now());
      const typed = await input.fill(`>${title}`, { timeout: Math.min(3000, left) }).then(() => true, () => false);
      if (typed && (await row.waitFor({ timeout: left }).then(() => true, () => false))) break;
      if (Date.now() >= deadline) throw new Error(`the command palette did not offer "${title}" within ${DEFAULT_WAIT_MS} ms (typed: ${typed})`);
    }
    await this.page.keyboard.press('Enter');
  }

  /** Opens a file of the workspace with Quick Open (F1, then the file name). */
  async openFile(name: string): Promise<void> {
    const input = await this.openQuickOpen();
    await input.fill(name);
    await this.quickInput().locator('.monaco-list-row.focused').filter({ hasText: name }).waitFor();
    await this.page.keyboard.press('Enter');
    await this.activeTab().filter({ hasText: name }).waitFor();
  }

  /**
   * Presses F1 until the quick input shows, and returns its text field. Right after a reload the
   * workbench may draw before its keybindings are in place, and a press then goes nowhere (seen once
   * in 18 runs, at a load of 19: the field stayed hidden for the whole wait).
   */
  async openQuickOpen(): Promise<Locator> {
    const input = this.quickInput().locator('input.input');
    const deadline = Date.now() + DEFAULT_WAIT_MS;
    for (;;) {
      await this.page.keyboard.press('F1');
      const shown = await input.waitFor({ timeout: Math.min(3000, Math.max(1, deadline - Date.now())) }).then(() => true, () => false);
      if (shown) return input;
      if (Date.now() >= deadline) throw new Error(`the command palette did not open within ${DEFAULT_WAIT_MS} ms of pressing F1`);
    }
  }

  /** Waits for a quick input whose title shows `text`, and returns it. */
  async waitForQuickInput(title: string | RegExp): Promise<Locator> {
    await this.quickInput().locator('.quick-input-title').filter({ hasText: title }).waitFor();
    return this.quickInput();
  }

  /** Types into the open quick input and presses Enter. */
  async answerQuickInput(text: string): Promise<void> {
    const input = this.quickInput().locator('input.input');
    await input.fill(text);
    await this.page.keyboard.press('Enter');
    await this.quickInput().waitFor({ state: 'hidden' });
  }

  /** The active editor tab. */
  activeTab(): Locator {
    return this.page.locator('.part.editor .tabs-container .tab.active');
  }

  /** The text editor of the active editor group (not a diff editor's inner ones). */
  activeEditor(): Locator {
    return this.page.locator('.part.editor .editor-group-container.active .editor-instance .monaco-editor').first();
  }

  /** Types a new last line into the active editor (Ctrl+End, Enter, text, Escape to close any widget). */
  async appendLine(text: string): Promise<void> {
    await this.activeEditor().locator('.view-lines').click();
    await this.page.keyboard.press('Control+End');
    await this.page.keyboard.press('Enter');
    await this.page.keyboard.type(text);
    await this.page.keyboard.press('Escape');
    await this.activeEditor().locator('.view-lines').filter({ hasText: text }).waitFor();
  }

  /** Ctrl+S, then waits until the active tab is no longer marked unsaved. */
  async saveActiveEditor(): Promise<void> {
    await this.page.keyboard.press('Control+S');
    await this.page.locator('.part.editor .tab.active.dirty').waitFor({ state: 'detached' });
  }

  /** The side bar's title and its views' headers ("3 POINTS · 12 KB": the points view's title, which the File History view's header sits below). */
  sideBarTitle(): Locator {
    return this.page.locator('.part.sidebar .composite.title, .part.sidebar .pane-header');
  }

  /** The side bar's view (pane) whose header shows `name`. */
  sideBarView(name: string | RegExp): Locator {
    return this.page.locator('.part.sidebar .pane').filter({ has: this.page.locator('.pane-header').filter({ hasText: name }) });
  }

  /** A button of the modal dialog on screen. */
  dialogButton(name: string): Locator {
    return this.page.locator('.monaco-dialog-box .dialog-buttons .monaco-button').filter({ hasText: name }).first();
  }

  /** A notification toast whose message matches. */
  notification(text: string | RegExp): Locator {
    return this.page.locator('.notifications-toasts .notification-toast').filter({ hasText: text }).first();
  }

  /** The notification centre's entry (the list the status bar's bell opens) whose message matches. */
  notificationEntry(text: string | RegExp): Locator {
    return this.page.locator('.notifications-center .notification-list-item').filter({ hasText: text }).first();
  }

  /**
   * Waits for a notification whose message matches, where a person finds it: its toast, or its entry
   * in the notification centre, which this opens when no toast shows it after a few seconds. VS Code
   * shows no toast for a notification that comes within 800 ms of three others (a test clicking
   * a notification's button at once can bring a progress notification and the result that fast), and
   * puts a toast away after 15–20 s; both stay in the centre. Returns the toast or the entry (both
   * hold the message and its buttons).
   */
  async waitForNotification(text: string | RegExp, options: { timeout?: number } = {}): Promise<Locator> {
    const timeout = options.timeout ?? DEFAULT_WAIT_MS;
    const started = Date.now();
    const found = this.notification(text).or(this.notificationEntry(text)).first();
    if (await found.waitFor({ timeout: Math.min(5000, timeout) }).then(() => true, () => false)) return found;
    await this.showNotificationCentre();
    try {
      await found.waitFor({ timeout: Math.max(1000, timeout - (Date.now() - started)) });
    } catch (error) {
      const shown = await this.page.locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item').allTextContents().catch(() => []);
      throw new Error(`no notification matching ${String(text)} as a toast or in the notification centre after ${timeout} ms; shown: ${JSON.stringify(shown)}`, { cause: error });
    }
    return found;
  }

  /** Opens the notification centre (every notification not closed yet, toasts put away among them). */
  async showNotificationCentre(): Promise<void> {
    if (await this.page.locator('.notifications-center').isVisible()) return;
    await this.runCommand('Notifications: Show Notifications');
    await this.page.locator('.notifications-center').waitFor();
  }

  /** Closes every notification, toasts and the notification centre's (they would cover screenshots). */
  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
    await this.page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'hidden' });
    await this.page.locator('.notifications-center .notification-list-item').first().waitFor({ state: 'hidden' });
  }

  /** Drags the side bar's edge so it is `width` pixels wide. */
  async setSideBarWidth(width: number): Promise<void> {
    const sideBar = await this.page.locator('.part.sidebar').boundingBox();
    if (!sideBar) throw new Error('the side bar is not visible');
    const y = sideBar.y + sideBar.height / 2;
    const edge = sideBar.x + sideBar.width;
    await this.page.mouse.move(edge - 1, y);
    await this.page.mouse.down();
    await this.page.mouse.move(sideBar.x + width, y, { steps: 5 });
    await this.page.mouse.up();
  }
}
