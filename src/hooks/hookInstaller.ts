import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyEdits, modify, parse as parseJsonc, type ParseError } from 'jsonc-parser';
import writeFileAtomic from 'write-file-atomic';
import type * as z from 'zod';
import { StateError } from '../core';
import {
  CLAUDE_EDIT_TOOLS,
  claudeSettingsSchema,
  HOOK_EVENTS,
  HOOK_TIMEOUT_SECONDS,
  settingsLocation,
  vscodeHookFileSchema,
  type ClaudeSettings,
  type CommandHook,
  type HookScope,
  type VsCodeHookFile,
} from './agentSettings';
import { hookCommand, isOurHookCommand, missingPaths, type HookLauncher } from './hookCommand';
import { AGENT_NAMES, type AgentId } from './hookEvent';

export interface HookTarget {
  readonly agent: AgentId;
  readonly scope: HookScope;
  readonly projectDir: string;
  readonly home?: string;
}

export interface HookFileReport {
  /** The settings file (Claude Code, VS Code) or hooks folder (Cline). */
  readonly location: string;
  /** The events our hook is installed for, after the command. */
  readonly events: string[];
  /** Whether the command wrote anything (install and uninstall are idempotent). */
  readonly changed: boolean;
  /** Where the file was copied before it was changed. */
  readonly backup?: string;
  /** Status: the paths the installed command names that are gone (it fails at every call until installed again). */
  readonly missing?: string[];
}

/** Marks the hook scripts written for Cline; a script without it is the user's own and never touched. */
const CLINE_MARK = '# Written by "recovery-points hooks install --agent cline"; "recovery-points hooks uninstall" removes it.';
export const BACKUP_SUFFIX = '.recovery-points.bak';

/** Adds our hook entries to the agent's settings, merged with what is there; a second install changes nothing. */
export async function installHooks(target: HookTarget, launcher: HookLauncher): Promise<HookFileReport> {
  const command = hookCommand(launcher, target.agent);
  if (target.agent === 'cline') return writeClineScripts(target, command);
  return editJson(target, (doc) => (target.agent === 'claude' ? withClaudeHooks(doc as ClaudeSettings, command) : withVsCodeHooks(doc as VsCodeHookFile, command)));
}

/** Removes exactly the entries `installHooks` wrote; everything else in the file stays. */
export async function uninstallHooks(target: HookTarget): Promise<HookFileReport> {
  if (target.agent === 'cline') return removeClineScripts(target);
  return editJson(target, (doc) => (target.agent === 'claude' ? withClaudeHooks(doc as ClaudeSettings, undefined) : withVsCodeHooks(doc as VsCodeHookFile, undefined)));
}

/** The events our hook is installed for in that place (empty: not installed). */
export async function hooksStatus(target: HookTarget): Promise<HookFileReport> {
  const location = settingsLocation(target.agent, target.scope, target.projectDir, target.home);
  let commands: Array<{ event: string; command: string }>;
  if (target.agent === 'cline') {
    commands = HOOK_EVENTS.filter((e) => isOurScript(path.join(location, e))).map((event) => ({ event, command: scriptCommand(path.join(location, event)) }));
  } else {
    const schema: z.ZodType<ClaudeSettings | VsCodeHookFile> = target.agent === 'claude' ? claudeSettingsSchema : vscodeHookFileSchema;
    const doc = readSettings(location, schema);
    commands = doc ? ourCommands(target.agent, doc) : [];
  }
  const missing = [...new Set(commands.flatMap((c) => missingPaths(c.command)))];
  return { location, events: [...new Set(commands.map((c) => c.event))], changed: false, ...(missing.length > 0 ? { missing } : {}) };
}

/**
 * Installs the hook again where it is installed but names paths that are gone (the extension's folder
 * after an update, VS Code Server's Node after the server's): every agent, in the project and for the
 * user. Hooks that work, and places without ours, are left alone.
 */
export async function repairHooks(projectDir: string, launcher: HookLauncher, home?: string): Promise<Array<HookFileReport & { agent: AgentId; scope: HookScope }>> {
  const repaired: Array<HookFileReport & { agent: AgentId; scope: HookScope }> = [];
  for (const agent of ['claude', 'copilot', 'cline'] as const) {
    for (const scope of ['project', 'user'] as const) {
      const target = { agent, scope, projectDir, home };
      const status = await hooksStatus(target).catch(() => undefined);
      if (!status?.missing || status.events.length === 0) continue;
      repaired.push({ agent, scope, ...(await installHooks(target, launcher)), missing: status.missing });
    }
  }
  return repaired;
}

function ourEvents(agent: AgentId, doc: ClaudeSettings | VsCodeHookFile): string[] {
  return [...new Set(ourCommands(agent, doc).map((c) => c.event))];
}

function ourCommands(agent: AgentId, doc: ClaudeSettings | VsCodeHookFile): Array<{ event: string; command: string }> {
  const out: Array<{ event: string; command: string }> = [];
  for (const [event, entries] of Object.entries(doc.hooks ?? {})) {
    for (const entry of entries as unknown[]) {
      const commands = agent === 'claude' ? (entry as { hooks: CommandHook[] }).hooks.map((h) => h.command) : [(entry as CommandHook).command];
      for (const command of commands) if (isOurHookCommand(command)) out.push({ event, command: command as string });
    }
  }
  return out;
}

/** The command our Cline script runs (its `exec` line, without the arguments passed on). */
function scriptCommand(file: string): string {
  const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('exec ')) ?? '';
  return line.slice('exec '.length).replace(/ "\$@"$/, '');
}

function readSettings<T>(file: string, schema: z.ZodType<T>): T | undefined {
  return readSettingsText(file, schema)?.doc;
}

/**
 * A settings file and what it holds. The agents' settings are JSON with comments (JSONC), as VS Code's
 * own: comments and trailing commas are read, and `editJson` keeps them.
 */
function readSettingsText<T>(file: string, schema: z.ZodType<T>): { doc: T; text: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw StateError.io(`Could not read ${file}: ${(error as Error).message}`, error);
  }
  const errors: ParseError[] = [];
  const raw: unknown = text.trim() === '' ? {} : parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) throw StateError.invalidState(`${file} is not valid JSON; nothing was changed. Fix it, or move it aside, and run the command again.`);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw StateError.invalidState(`${file} does not have the shape of hook settings (${issue?.path.join('.') || 'the file'}: ${issue?.message}); nothing was changed.`);
  }
  return { doc: parsed.data, text };
}

/**
 * `text` with its `hooks` made `hooks`, each event's list replaced on its own (or removed, or added),
 * everything else as it was: other keys, comments, trailing commas, layout. `text` is valid JSONC.
 */
function withHooksText(text: string, before: Record<string, unknown> | undefined, hooks: Record<string, unknown> | undefined): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  ';
  const options = { formattingOptions: { insertSpaces: !indent.startsWith('\t'), tabSize: indent.startsWith('\t') ? 1 : indent.length, eol } };
  const change = (at: string[], value: unknown) => (text = applyEdits(text, modify(text, at, value, options)));
  if (!hooks || !before) {
    change(['hooks'], hooks);
    return text;
  }
  for (const event of new Set([...Object.keys(before), ...Object.keys(hooks)])) {
    if (canonical(before[event]) !== canonical(hooks[event])) change(['hooks', event], hooks[event]);
  }
  return text;
}

async function editJson(target: HookTarget, change: (doc: ClaudeSettings | VsCodeHookFile) => ClaudeSettings | VsCodeHookFile): Promise<HookFileReport> {
  const location = settingsLocation(target.agent, target.scope, target.projectDir, target.home);
  const schema: z.ZodType<ClaudeSettings | VsCodeHookFile> = target.agent === 'claude' ? claudeSettingsSchema : vscodeHookFileSchema;
  const read = readSettingsText(location, schema);
  const before = read?.doc;
  const after = change(structuredClone(before ?? {}));
  const events = ourEvents(target.agent, after);
  if (canonical(after) === canonical(before ?? {})) return { location, events, changed: false };
  if (!before && events.length === 0) return { location, events, changed: false };
  let backup: string | undefined;
  // our entries gone, the file is what its backup holds: the backup goes back in its place, as the
  // person wrote it (their formatting and key order), instead of staying beside it for git to list
  if (before && events.length === 0 && sameAsBackup(`${location}${BACKUP_SUFFIX}`, after, schema)) {
    fs.renameSync(`${location}${BACKUP_SUFFIX}`, location);
    return { location, events, changed: true };
  }
  // the backup keeps the file as the person had it, without our entries: an uninstall (or an install
  // over our old entries) does not replace it with a version that holds them
  if (before && ourEvents(target.agent, before).length === 0) {
    backup = `${location}${BACKUP_SUFFIX}`;
    await writeFileAtomic(backup, fs.readFileSync(location));
  }
  fs.mkdirSync(path.dirname(location), { recursive: true });
  // a file that holds anything: changed where our entries are, the rest (comments too) left as the person wrote it
  const edited = read && read.text.trim() !== '' ? withHooksText(read.text, before?.hooks, after.hooks) : undefined;
  // checked: what the edited text holds is what was meant, or the settings are written whole
  const text = edited !== undefined && canonical(parseJsonc(edited, [], { allowTrailingComma: true })) === canonical(after) ? edited : `${JSON.stringify(after, null, 2)}\n`;
  await writeFileAtomic(location, text);
  return { location, events, changed: true, backup };
}

/** Claude Code's settings without our entries, then (with `command`) with them: a prompt hook and edit/shell tool hooks. */
function withClaudeHooks(doc: ClaudeSettings, command: string | undefined): ClaudeSettings {
  const hooks: NonNullable<ClaudeSettings['hooks']> = {};
  for (const [event, groups] of Object.entries(doc.hooks ?? {})) {
    const kept = groups.map((g) => ({ ...g, hooks: g.hooks.filter((h) => !isOurHookCommand(h.command)) })).filter((g, i) => g.hooks.length > 0 || groups[i]!.hooks.length === 0);
    if (kept.length > 0) hooks[event] = kept;
  }
  if (command) {
    const entry = { type: 'command', command, timeout: HOOK_TIMEOUT_SECONDS };
    const add = (event: string, group: { matcher?: string; hooks: CommandHook[] }) => (hooks[event] = [...(hooks[event] ?? []), group]);
    add('UserPromptSubmit', { hooks: [entry] });
    add('PreToolUse', { matcher: `${CLAUDE_EDIT_TOOLS}|Bash`, hooks: [entry] });
    add('PostToolUse', { matcher: `${CLAUDE_EDIT_TOOLS}|Bash`, hooks: [entry] });
  }
  return withKey(doc, hooks);
}

/** A VS Code hook file without our entries, then (with `command`) with one per event (VS Code runs them for every tool). */
function withVsCodeHooks(doc: VsCodeHookFile, command: string | undefined): VsCodeHookFile {
  const hooks: NonNullable<VsCodeHookFile['hooks']> = {};
  for (const [event, entries] of Object.entries(doc.hooks ?? {})) {
    const kept = entries.filter((h) => !isOurHookCommand(h.command));
    if (kept.length > 0) hooks[event] = kept;
  }
  if (command) for (const event of HOOK_EVENTS) hooks[event] = [...(hooks[event] ?? []), { type: 'command', command, timeout: HOOK_TIMEOUT_SECONDS }];
  return withKey(doc, hooks);
}

/** `doc` with `hooks` replaced where it was (or added last), or dropped when empty: the file keeps its order. */
function withKey<T extends { hooks?: unknown }>(doc: T, hooks: Record<string, unknown>): T {
  const keep = Object.keys(hooks).length > 0;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) if (key !== 'hooks') out[key] = value;
  else if (keep) out.hooks = hooks;
  if (keep && !('hooks' in out)) out.hooks = hooks;
  return out as T;
}

/** JSON with keys sorted: two documents that mean the same compare equal. */
/** Whether `backup` is a file whose settings are `settings` (its formatting aside). */
function sameAsBackup(backup: string, settings: unknown, schema: z.ZodType<ClaudeSettings | VsCodeHookFile>): boolean {
  if (!fs.existsSync(backup)) return false;
  try {
    return canonical(readSettings(backup, schema) ?? {}) === canonical(settings);
  } catch {
    return false;
  }
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

function isOurScript(file: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').includes(CLINE_MARK);
  } catch {
    return false;
  }
}

function clineScript(command: string): string {
  return `#!/bin/sh\n${CLINE_MARK}\nexec ${command} "$@"\n`;
}

async function writeClineScripts(target: HookTarget, command: string): Promise<HookFileReport> {
  const dir = settingsLocation('cline', target.scope, target.projectDir, target.home);
  const theirs = HOOK_EVENTS.filter((e) => fs.existsSync(path.join(dir, e)) && !isOurScript(path.join(dir, e)));
  if (theirs.length > 0) {
    throw StateError.invalidState(`Cline already runs hook scripts of its own in ${dir} (${theirs.join(', ')}); nothing was changed. Call "${command}" from them, passing standard input on.`);
  }
  fs.mkdirSync(dir, { recursive: true });
  let changed = false;
  for (const event of HOOK_EVENTS) {
    const file = path.join(dir, event);
    const text = clineScript(command);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) continue;
    await writeFileAtomic(file, text, { mode: 0o755 });
    changed = true;
  }
  return { location: dir, events: [...HOOK_EVENTS], changed };
}

async function removeClineScripts(target: HookTarget): Promise<HookFileReport> {
  const dir = settingsLocation('cline', target.scope, target.projectDir, target.home);
  let changed = false;
  for (const event of HOOK_EVENTS) {
    const file = path.join(dir, event);
    if (!isOurScript(file)) continue;
    fs.rmSync(file);
    changed = true;
  }
  return { location: dir, events: [], changed };
}

/** The agents whose hook is installed in the project's settings (workspace files, which a restore may change), with where. */
export async function projectHooks(projectDir: string): Promise<Array<{ agent: AgentId; location: string }>> {
  const installed: Array<{ agent: AgentId; location: string }> = [];
  for (const agent of ['claude', 'copilot', 'cline'] as const) {
    const status = await hooksStatus({ agent, scope: 'project', projectDir }).catch(() => undefined);
    if (status && status.events.length > 0) installed.push({ agent, location: status.location });
  }
  return installed;
}

/** Of the hooks installed before a restore (`before`), those it removed (it restored settings from before they were set up). */
export async function hooksRemovedByRestore(projectDir: string, before: ReadonlyArray<{ agent: AgentId; location: string }>): Promise<Array<{ agent: AgentId; location: string }>> {
  if (before.length === 0) return [];
  const after = await projectHooks(projectDir);
  return before.filter((b) => !after.some((a) => a.agent === b.agent));
}

/**
 * Of the hooks installed in the project now, those whose settings a restore would delete or change
 * (`deleted`, `changed`: the absolute paths it would delete and write), with how: a preview says the
 * agent may make no points after it.
 */
export async function hooksTouchedByPlan(
  projectDir: string,
  deleted: readonly string[],
  changed: readonly string[],
): Promise<Array<{ agent: AgentId; location: string; how: 'deletes' | 'changes' }>> {
  const touched: Array<{ agent: AgentId; location: string; how: 'deletes' | 'changes' }> = [];
  const under = (file: string, location: string) => file === location || file.startsWith(location + path.sep);
  for (const hook of await projectHooks(projectDir)) {
    if (deleted.some((file) => under(file, hook.location))) touched.push({ ...hook, how: 'deletes' });
    else if (changed.some((file) => under(file, hook.location))) touched.push({ ...hook, how: 'changes' });
  }
  return touched;
}

/** What a preview says of `hooksTouchedByPlan`: "the restore deletes .claude/settings.local.json, which holds Claude Code's checkpoint hooks: …". */
export function hooksTouchedNote(touched: ReadonlyArray<{ agent: AgentId; location: string; how: 'deletes' | 'changes' }>, where: (location: string) => string, putBack: (agent: AgentId) => string): string[] {
  return touched.map(
    (h) =>
      `the restore ${h.how === 'deletes' ? 'deletes' : 'puts back an older'} ${where(h.location)}, which holds ${AGENT_NAMES[h.agent]}'s checkpoint hooks: ${h.how === 'deletes' ? 'the agent makes no recovery points after it' : 'if that version lacks them, the agent makes no recovery points after it'} (${putBack(h.agent)})`,
  );
}

/**
 * What a restore that removed hooks says: "the restore removed Claude Code's checkpoint hooks from
 * .claude/settings.local.json (the point is older than them), so it makes no recovery points now: run …".
 */
export function hooksRemovedNote(removed: ReadonlyArray<{ agent: AgentId; location: string }>, where: (location: string) => string, putBack: (agent: AgentId) => string): string[] {
  return removed.map((h) => `the restore removed ${AGENT_NAMES[h.agent]}'s checkpoint hooks from ${where(h.location)} (the point is older than them), so it makes no recovery points now: ${putBack(h.agent)}`);
}

