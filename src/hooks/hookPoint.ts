import * as fs from 'node:fs';
import * as path from 'node:path';
import { pointTime } from '../core/ids';
import type { RecoveryStore } from '../core/recoveryStore';
import type { SavedContent } from '../core/capture';
import type { ContextSnapshot, WorkspaceRoot } from '../core/schemas';
import { innermostFirst } from '../core/recovery/workspacePaths';
import { realPathOf } from '../core/realPath';
import { AGENT_NAMES, shortenCommand, type HookEvent } from './hookEvent';

/** How a hook's point is made: `continued`, finished in the background after its budget ran out; `onCapturing` once the store is held and the capture starts. */
export interface HookPointOptions {
  readonly signal: AbortSignal;
  readonly continued?: boolean;
  readonly onCapturing?: () => void;
  /** With `continued`: the edited files' bytes as the hook found them, by the names the event gives them; the point holds these. */
  readonly kept?: ReadonlyMap<string, SavedContent>;
}

/** What the hook did: a point, or why none was needed. */
export type HookOutcome = { readonly made: ContextSnapshot } | { readonly skipped: string };

/** Two hooks for one prompt (VS Code runs `.claude/settings*.json` and `.github/hooks` alike) make one turn point. */
const SAME_TURN_MS = 10_000;
const MAX_PROMPT_IN_LABEL = 60;

/**
 * Makes the point a hook asks for. Before an edit: a hint-mode point over the files the tool names,
 * none when they are as the newest point holds them. After an edit: the same, so the agent's change is
 * recorded under its name. Before and after a shell command: a full check (a command can change
 * anything, and whatever changed since the last point, a person's edit in another editor, is then in
 * no point), none when nothing changed. At a prompt: a labelled point, so a whole turn can be undone at once.
 * `continued`: the hook ran out of time and this is its point finished in the background, while the
 * agent went on: "During …", and a turn's point is not labelled (it may hold part of the turn).
 */
export async function makeHookPoint(store: RecoveryStore, event: HookEvent, options: HookPointOptions): Promise<HookOutcome> {
  const agent = AGENT_NAMES[event.agent];
  const roots = store.persistence.workspaceRoots;
  const action = event.action;
  const continued = options.continued ?? false;
  const onCapturing = options.onCapturing;
  const base = { trigger: 'agent' as const, agent, signal: options.signal, onProgress: onCapturing && (() => onCapturing()) };
  switch (action.kind) {
    case 'none':
      return { skipped: action.reason };
    case 'before-edit':
    case 'after-edit': {
      const saved = new Map<string, SavedContent>();
      const files = action.files.flatMap((f) => {
        const file = inWorkspace(roots, path.resolve(event.cwd ?? roots[0]!.path, f));
        const bytes = options.kept?.get(f);
        if (file !== undefined && bytes) saved.set(file, bytes);
        return file ?? [];
      });
      if (files.length === 0) return { skipped: `${action.tool} edits no file of the workspace` };
      // the files as the hook found them are "before" the edit, even in a point made later
      const during = continued && saved.size < files.length;
      const summary = `${action.kind === 'after-edit' ? 'After' : during ? 'During' : 'Before'} ${agent}: ${action.tool} ${describeEdited(roots, files)}`;
      const made = await store.recovery.createRecoveryPoint(undefined, { ...base, summary, changedPaths: files, skipIfUnchanged: true, savedContent: saved.size > 0 ? saved : undefined });
      return made ? { made } : { skipped: 'the files are as the newest point holds them' };
    }
    case 'before-shell':
    case 'after-shell': {
      const before = action.kind === 'before-shell';
      const summary = `${!before ? 'After' : continued ? 'During' : 'Before'} ${agent}: ${action.tool} \`${shortenCommand(action.command)}\``;
      const made = await store.recovery.createRecoveryPoint(undefined, { ...base, summary, skipIfUnchanged: true });
      return made ? { made } : { skipped: before ? 'nothing changed since the newest point' : 'the command changed no file' };
    }
    case 'prompt': {
      const prompt = shortenCommand(action.prompt, MAX_PROMPT_IN_LABEL);
      if (continued) {
        const made = await store.recovery.createRecoveryPoint(undefined, { ...base, summary: `During ${agent}'s turn${prompt ? `: ${prompt}` : ''}`, skipIfUnchanged: true });
        return made ? { made } : { skipped: 'nothing changed since the newest point' };
      }
      const label = `${agent} turn${prompt ? `: ${prompt}` : ''}`;
      const newest = (await store.recovery.listRecoveryPoints())[0];
      if (newest && newest.label === label && newest.trigger === 'agent' && Date.now() - pointTime(newest) < SAME_TURN_MS) return { skipped: 'this turn already has its point' };
      const made = await store.recovery.createRecoveryPoint(undefined, { ...base, label, summary: `Before ${agent}'s turn` });
      return { made: made! };
    }
  }
}

/**
 * `file` under the workspace folder that holds it, by that folder's path; a file named through the
 * folder's real path (an agent in the real folder of one opened through a link), or through a link to
 * the folder (an agent started in a linked path of the folder opened), is named through the folder's
 * path. `undefined` outside every workspace folder.
 */
function inWorkspace(roots: readonly WorkspaceRoot[], file: string): string | undefined {
  for (const root of roots) if (inside(root, file)) return file;
  const realRoots = roots.flatMap((root) => {
    try {
      return [{ root, real: fs.realpathSync(root.path) }];
    } catch {
      return [];
    }
  });
  for (const { root, real } of realRoots) if (real !== root.path && inside({ ...root, path: real }, file)) return path.join(root.path, path.relative(real, file));
  const realFile = realPathOf(file);
  if (realFile === file) return undefined;
  for (const { root, real } of realRoots) if (inside({ ...root, path: real }, realFile)) return path.join(root.path, path.relative(real, realFile));
  return undefined;
}

/** The real path of the folder holding `file` (or of its nearest folder that exists) joined with the rest: the name itself may be a link, captured as one. */
function inside(root: WorkspaceRoot, file: string): boolean {
  const rel = path.relative(root.path, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** "src/app.ts", "src/a.ts and 2 more": workspace-relative, as people read them in the tree. */
function describeEdited(roots: readonly WorkspaceRoot[], files: readonly string[]): string {
  const rel = (file: string) => {
    const root = innermostFirst(roots).find((r) => inside(r, file))!;
    const relative = path.relative(root.path, file).split(path.sep).join('/');
    return roots.length > 1 ? `${root.name}/${relative}` : relative;
  };
  const first = rel(files[0]!);
  return files.length === 1 ? first : `${first} and ${files.length - 1} more`;
}
