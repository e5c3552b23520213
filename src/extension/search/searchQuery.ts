import * as vscode from 'vscode';
import { checkPathGlobs, SearchPattern, StateError } from '../../core';
import type { Prompts } from '../prompts';

/** What to search for: the text, how to read it, and which paths. */
export interface SearchQuery {
  readonly pattern: string;
  readonly regex: boolean;
  readonly caseSensitive: boolean;
  /** Globs ("src/**, *.md"); empty for every file. */
  readonly paths: readonly string[];
}

const TITLE = 'Search History';

/**
 * The command's optional argument (from a keybinding's `args`), named as VS Code's own "Find in
 * Files" names them: `{ "query": "TODO", "isRegex": true, "isCaseSensitive": false, "filesToInclude": "src/**" }`.
 */
export function presetFromArgs(args: unknown): Partial<SearchQuery> {
  if (typeof args !== 'object' || args === null) return {};
  const a = args as Record<string, unknown>;
  return {
    ...(typeof a.query === 'string' ? { pattern: a.query } : {}),
    ...(typeof a.isRegex === 'boolean' ? { regex: a.isRegex } : {}),
    ...(typeof a.isCaseSensitive === 'boolean' ? { caseSensitive: a.isCaseSensitive } : {}),
    ...(typeof a.filesToInclude === 'string' ? { paths: splitGlobs(a.filesToInclude) } : {}),
  };
}

/**
 * Asks for the text to search for, in an input box with the toggles VS Code's find widget has (Match
 * Case, Use Regular Expression) and a "Files to Include" glob, as title buttons. A malformed regular
 * expression or glob is refused in the box. With answers scripted (tests) the text is typed into a plain box.
 */
export async function askSearchQuery(prompts: Prompts, previous: Partial<SearchQuery> | undefined): Promise<SearchQuery | undefined> {
  const state = { regex: previous?.regex ?? false, caseSensitive: previous?.caseSensitive ?? false, paths: previous?.paths ?? [] };
  const validate = (value: string) => {
    if (value.length === 0) return undefined;
    try {
      new SearchPattern(value, state);
      checkPathGlobs(state.paths);
      return undefined;
    } catch (error) {
      return error instanceof StateError ? error.message : String(error);
    }
  };
  if (prompts.pending > 0) {
    const pattern = await prompts.input({ title: TITLE, prompt: 'Text to find in every version of every file', value: previous?.pattern, validateInput: validate });
    return pattern ? { pattern, ...state } : undefined;
  }
  const box = vscode.window.createInputBox();
  const caseButton = (on: boolean): vscode.QuickInputButton => ({ iconPath: new vscode.ThemeIcon(on ? 'pass-filled' : 'case-sensitive'), tooltip: `Match Case (${on ? 'on' : 'off'})` });
  const regexButton = (on: boolean): vscode.QuickInputButton => ({ iconPath: new vscode.ThemeIcon(on ? 'pass-filled' : 'regex'), tooltip: `Use Regular Expression (${on ? 'on' : 'off'})` });
  const pathsButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('files'), tooltip: 'Files to Include…' };
  let buttons = { match: caseButton(state.caseSensitive), regex: regexButton(state.regex) };
  const render = () => {
    buttons = { match: caseButton(state.caseSensitive), regex: regexButton(state.regex) };
    box.buttons = [buttons.match, buttons.regex, pathsButton];
    const on = [state.caseSensitive ? 'Match Case' : '', state.regex ? 'Regular Expression' : '', state.paths.length > 0 ? `in ${state.paths.join(', ')}` : ''].filter(Boolean);
    box.title = on.length > 0 ? `${TITLE} (${on.join(' · ')})` : TITLE;
    box.validationMessage = validate(box.value);
  };
  box.placeholder = 'Text to find in every version of every file the points hold';
  box.prompt = 'Enter searches. Buttons: Match Case, Use Regular Expression, Files to Include.';
  box.value = previous?.pattern ?? '';
  box.valueSelection = [0, box.value.length];
  box.ignoreFocusOut = false;
  render();
  return new Promise<SearchQuery | undefined>((resolve) => {
    let asking = false;
    let done = false;
    const finish = (query: SearchQuery | undefined) => {
      if (done) return;
      done = true;
      subscriptions.forEach((s) => s.dispose());
      box.dispose();
      resolve(query);
    };
    const subscriptions = [
      box.onDidChangeValue(() => (box.validationMessage = validate(box.value))),
      box.onDidTriggerButton(async (button) => {
        if (button === buttons.match) state.caseSensitive = !state.caseSensitive;
        else if (button === buttons.regex) state.regex = !state.regex;
        else if (button === pathsButton) {
          asking = true;
          const globs = await vscode.window.showInputBox({
            title: 'Files to Include',
            prompt: 'Globs separated by commas, matched against the path in the workspace folder: a folder stands for the files below it, a glob without "/" matches at any depth (empty: every file)',
            placeHolder: 'src, *.md',
            value: state.paths.join(', '),
            validateInput: (value) => globProblem(splitGlobs(value)),
          });
          asking = false;
          if (globs !== undefined) state.paths = splitGlobs(globs);
          box.show();
        }
        render();
      }),
      box.onDidAccept(() => {
        if (box.value.length === 0 || validate(box.value)) return;
        finish({ pattern: box.value, ...state });
      }),
      box.onDidHide(() => {
        if (!asking) finish(undefined);
      }),
    ];
    box.show();
  });
}

/** "src/**, *.md" as its globs. */
function splitGlobs(text: string): string[] {
  return text.split(',').map((g) => g.trim()).filter(Boolean);
}

/** Why one of `globs` is malformed, or `undefined`. */
function globProblem(globs: readonly string[]): string | undefined {
  try {
    checkPathGlobs(globs);
    return undefined;
  } catch (error) {
    return error instanceof StateError ? error.message : String(error);
  }
}
