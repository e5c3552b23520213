import * as vscode from 'vscode';
import { describeCause } from '../core';

/**
 * An answer scripted in advance (extension-host and end-to-end tests): the person's part of a flow
 * only — everything else (commands, store, editors, files) stays real.
 * - `pick`: the quick pick item whose label (codicons left out) equals the text, else the first whose
 *   label contains it, or matches the RegExp, or the item at that index; with `itemButton`, the
 *   button of that item whose tooltip is that text is clicked instead (`pickWithButtons`).
 * - `pickMany`: those items ticked (`'all'`: every item, `'picked'`: the items ticked at first).
 * - `input`: the text typed into an input box (it must pass the box's validation).
 * - `button`: the button clicked in a message (a modal question, or one the flow waits for).
 * - `file`: the path chosen in a save or open dialog.
 * - `cancel`: Escape (or closing the dialog): the prompt returns `undefined`.
 */
export type PromptAnswer =
  | { readonly pick: string | RegExp | number; readonly itemButton?: string }
  | { readonly pickMany: 'all' | 'picked' | ReadonlyArray<string | RegExp> }
  | { readonly input: string }
  | { readonly button: string }
  | { readonly file: string }
  | { readonly cancel: true };

export type PromptKind = 'pick' | 'pickMany' | 'input' | 'message' | 'file';

/** One question asked, what it offered and how it was answered (scripted answers only). */
export interface PromptRecord {
  readonly kind: PromptKind;
  /** The title, placeholder or prompt of a pick or input box; the message of a question. */
  readonly text: string;
  /** A modal question's detail text. */
  readonly detail?: string;
  /** The items' labels (codicons left out) or the buttons. */
  readonly choices: readonly string[];
  readonly answer: string | readonly string[] | undefined;
  /** A pick's items as given (their icons, descriptions, ticks). */
  readonly items?: readonly vscode.QuickPickItem[];
}

/**
 * Every question the extension asks a person: quick picks, input boxes and messages whose answer a
 * flow waits for (modal questions). It shows the real VS Code UI, unless a test queued answers with
 * `answerNext`: those are consumed in order, one per question, and recorded in `history`.
 */
export class Prompts {
  private readonly queue: PromptAnswer[] = [];
  /** The questions answered from the queue, oldest first. */
  readonly history: PromptRecord[] = [];
  /** Scripted answers that did not fit the question they met (each also fails that question). */
  readonly problems: string[] = [];
  /** Every notification shown with `notify`, oldest first (what a person read; never scripted). */
  readonly notifications: Array<{ readonly severity: 'information' | 'warning'; readonly message: string; readonly buttons: readonly string[] }> = [];

  /** Queues answers for the next questions, in order. */
  answerNext(...answers: PromptAnswer[]): void {
    this.queue.push(...answers);
  }

  /** How many queued answers no question has used yet. */
  get pending(): number {
    return this.queue.length;
  }

  /** Drops unused answers, the history, the problems and the notifications. */
  reset(): void {
    this.queue.length = 0;
    this.history.length = 0;
    this.problems.length = 0;
    this.notifications.length = 0;
  }

  /** A notification (a toast the flow does not wait for); resolves with the button clicked, if any. */
  notify(severity: 'information' | 'warning', message: string, ...buttons: string[]): Thenable<string | undefined> {
    this.notifications.push({ severity, message, buttons });
    return severity === 'warning' ? vscode.window.showWarningMessage(message, ...buttons) : vscode.window.showInformationMessage(message, ...buttons);
  }

  async pick<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions = {}): Promise<T | undefined> {
    const answer = this.queue.shift();
    if (!answer) return vscode.window.showQuickPick(items, { ...options, canPickMany: false });
    const text = options.title ?? options.placeHolder ?? '';
    const labels = items.map((item) => plainLabel(item.label));
    let index: number;
    if ('cancel' in answer) index = -1;
    else if ('pick' in answer && answer.itemButton === undefined) index = findItem(labels, answer.pick);
    else throw this.problem(`the answer ${JSON.stringify(answer)} does not fit the quick pick "${text}"`);
    if (index === -2) throw this.problem(`no item of the quick pick "${text}" fits ${String((answer as { pick: unknown }).pick)}: ${labels.join(' | ')}`);
    const chosen = index >= 0 ? items[index] : undefined;
    this.history.push({ kind: 'pick', text, choices: labels, answer: chosen ? labels[index] : undefined, items });
    return chosen;
  }

  /**
   * A quick pick whose items carry buttons (`buttons`, told apart by their tooltips). Choosing an item
   * calls `onAccept` and keeps the pick open (to look at several, as the File History's rows); a
   * button of an item ends the pick with that item and the button's tooltip; Escape ends it with
   * `undefined`. A scripted answer is one choice (then the pick ends) or one button.
   */
  async pickWithButtons<T extends vscode.QuickPickItem>(
    items: readonly T[],
    buttons: readonly vscode.QuickInputButton[],
    options: { readonly title: string; readonly placeHolder?: string },
    onAccept: (item: T) => Promise<unknown>,
  ): Promise<{ readonly item: T; readonly button: string } | undefined> {
    const answer = this.queue[0];
    if (!answer) return showPickWithButtons(items, buttons, options, onAccept);
    const wanted = 'pick' in answer ? answer.itemButton : undefined;
    if (wanted !== undefined && !buttons.some((b) => b.tooltip === wanted)) {
      this.queue.shift();
      throw this.problem(`no button of the quick pick "${options.title}" is "${wanted}": ${buttons.map((b) => b.tooltip).join(' | ')}`);
    }
    if (wanted !== undefined) this.queue[0] = { pick: (answer as { pick: string | RegExp | number }).pick };
    const item = await this.pick(items, options);
    if (!item) return undefined;
    if (wanted !== undefined) return { item, button: wanted };
    await onAccept(item);
    return undefined;
  }

  async pickMany<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions = {}): Promise<T[] | undefined> {
    const answer = this.queue.shift();
    if (!answer) return vscode.window.showQuickPick(items, { ...options, canPickMany: true });
    const text = options.title ?? options.placeHolder ?? '';
    const labels = items.map((item) => plainLabel(item.label));
    let chosen: T[] | undefined;
    if ('cancel' in answer) chosen = undefined;
    else if (!('pickMany' in answer)) throw this.problem(`the answer ${JSON.stringify(answer)} does not fit the multiple choice "${text}"`);
    else if (answer.pickMany === 'all') chosen = [...items];
    else if (answer.pickMany === 'picked') chosen = items.filter((item) => item.picked);
    else {
      chosen = [];
      for (const wanted of answer.pickMany) {
        const index = findItem(labels, wanted);
        if (index < 0) throw this.problem(`no item of the multiple choice "${text}" fits ${String(wanted)}: ${labels.join(' | ')}`);
        if (!chosen.includes(items[index]!)) chosen.push(items[index]!);
      }
    }
    this.history.push({ kind: 'pickMany', text, choices: labels, answer: chosen?.map((item) => plainLabel(item.label)), items });
    return chosen;
  }

  async input(options: vscode.InputBoxOptions = {}): Promise<string | undefined> {
    const answer = this.queue.shift();
    if (!answer) return vscode.window.showInputBox(options);
    const text = options.title ?? options.prompt ?? options.placeHolder ?? '';
    let value: string | undefined;
    if ('cancel' in answer) value = undefined;
    else if ('input' in answer) value = answer.input;
    else throw this.problem(`the answer ${JSON.stringify(answer)} does not fit the input box "${text}"`);
    if (value !== undefined && options.validateInput) {
      const invalid = await options.validateInput(value);
      const message = typeof invalid === 'string' ? invalid : invalid?.message;
      if (message) throw this.problem(`the input box "${text}" refuses ${JSON.stringify(value)}: ${message}`);
    }
    this.history.push({ kind: 'input', text, choices: [], answer: value });
    return value;
  }

  /** A message whose answer the flow waits for (`options.modal` for a question that blocks the window). */
  async ask(severity: 'information' | 'warning', message: string, options: vscode.MessageOptions, ...buttons: string[]): Promise<string | undefined> {
    const answer = this.queue.shift();
    if (!answer) {
      return severity === 'warning' ? vscode.window.showWarningMessage(message, options, ...buttons) : vscode.window.showInformationMessage(message, options, ...buttons);
    }
    let chosen: string | undefined;
    if ('cancel' in answer) chosen = undefined;
    else if ('button' in answer && buttons.includes(answer.button)) chosen = answer.button;
    else throw this.problem(`the answer ${JSON.stringify(answer)} does not fit the message "${message}" (buttons: ${buttons.join(' | ') || 'none'})`);
    this.history.push({ kind: 'message', text: message, detail: options.detail, choices: buttons, answer: chosen });
    return chosen;
  }

  /** A save dialog (`kind: 'save'`) or an open dialog for one file (`'open'`). */
  async file(kind: 'save' | 'open', options: vscode.SaveDialogOptions & vscode.OpenDialogOptions): Promise<vscode.Uri | undefined> {
    const answer = this.queue.shift();
    if (!answer) {
      if (kind === 'save') return vscode.window.showSaveDialog(options);
      return (await vscode.window.showOpenDialog({ ...options, canSelectMany: false, canSelectFiles: true, canSelectFolders: false }))?.[0];
    }
    const text = options.title ?? '';
    let chosen: vscode.Uri | undefined;
    if ('cancel' in answer) chosen = undefined;
    else if ('file' in answer) chosen = vscode.Uri.file(answer.file);
    else throw this.problem(`the answer ${JSON.stringify(answer)} does not fit the ${kind} dialog "${text}"`);
    this.history.push({ kind: 'file', text, choices: [], answer: chosen?.fsPath });
    return chosen;
  }

  private problem(message: string): Error {
    this.problems.push(message);
    return new Error(`Scripted answer: ${message}`);
  }
}

function showPickWithButtons<T extends vscode.QuickPickItem>(
  items: readonly T[],
  buttons: readonly vscode.QuickInputButton[],
  options: { readonly title: string; readonly placeHolder?: string },
  onAccept: (item: T) => Promise<unknown>,
): Promise<{ readonly item: T; readonly button: string } | undefined> {
  const pick = vscode.window.createQuickPick<T>();
  pick.title = options.title;
  pick.placeholder = options.placeHolder;
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  // Opening what an item shows takes the focus: the pick stays, to look at the next item.
  pick.ignoreFocusOut = true;
  pick.items = items.map((item) => ({ ...item, buttons }));
  const byCopy = new Map(pick.items.map((copy, i) => [copy, items[i]!]));
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      const chosen = pick.activeItems[0];
      if (chosen) onAccept(byCopy.get(chosen)!).then(undefined, (error: unknown) => void vscode.window.showErrorMessage(`Recovery Points: ${describeCause(error)}`));
    });
    pick.onDidTriggerItemButton((event) => {
      resolve({ item: byCopy.get(event.item)!, button: event.button.tooltip ?? '' });
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}

/** A label as a person reads it: without `$(icon)` codicons. */
export function plainLabel(label: string): string {
  return label.replace(/\$\([^)]*\)/g, '').trim();
}

/** The index of the label that fits; -2 when none does. */
function findItem(labels: readonly string[], wanted: string | RegExp | number): number {
  let index: number;
  if (typeof wanted === 'number') index = Number.isInteger(wanted) && wanted >= 0 && wanted < labels.length ? wanted : -1;
  else if (typeof wanted === 'string') {
    index = labels.indexOf(wanted);
    if (index < 0) index = labels.findIndex((label) => label.includes(wanted));
  } else index = labels.findIndex((label) => wanted.test(label));
  return index < 0 ? -2 : index;
}
