import type * as z from 'zod';
import { createPointInput, fileHistoryInput, listPointsInput, readFileVersionInput, restoreInput, searchHistoryInput, showChangesInput, undoRestoreInput } from './toolInputs';

/** One ability an agent can call: named for MCP (`snake_case`) and for VS Code's language-model tools (`recoveryPoints_…`). */
export interface AgentToolSpec {
  readonly mcpName: string;
  readonly lmName: string;
  readonly title: string;
  /** What the model reads to decide when to call the tool and what it will touch; `{toolKey}` names another tool (see `toolDescription`). */
  readonly description: string;
  readonly input: z.ZodObject;
  /** Reads only. */
  readonly readOnly: boolean;
  /** Changes or deletes workspace files (undoable). */
  readonly destructive: boolean;
}

const UNDOABLE = 'Every restore first makes a safety point of the current files, so it can always be undone with {undoRestore}.';
const UNTOUCHED = 'It writes only inside the workspace, and never touches files that recovery points do not track (ignored, excluded, untracked or secret files).';

export const AGENT_TOOLS = {
  listPoints: {
    mcpName: 'list_points',
    lmName: 'recoveryPoints_listPoints',
    title: 'List recovery points',
    description:
      'Lists the recovery points (checkpoints of the whole workspace) kept for this workspace, newest first: id, time, trigger, label, summary, who made it, the git branch (or commit) each folder was on, and +added ~modified -deleted file counts against the point before (noLongerTracked and nowTracked: how many of the deleted and added files only stopped or began being tracked, still on disk). Filter by time (since/until), trigger, maker (actor) or a file or folder the point changed. Reads only.',
    input: listPointsInput,
    readOnly: true,
    destructive: false,
  },
  createPoint: {
    mcpName: 'create_point',
    lmName: 'recoveryPoints_createPoint',
    title: 'Create a recovery point',
    description:
      'Creates a labelled recovery point of the whole workspace (every tracked file) now, for example before a risky change, so it can be restored later. Labelled points are kept until a person deletes them. Changes no workspace file. Returns the new point\'s id.',
    input: createPointInput,
    readOnly: false,
    destructive: false,
  },
  showChanges: {
    mcpName: 'show_changes',
    lmName: 'recoveryPoints_showChanges',
    title: 'Show a point\'s changes',
    description:
      'Lists the files a recovery point added, modified and deleted against the point before it; or, with "against", the files that differ between two points, or between a point and the current files ("current"); a file renamed or moved between them is listed once, in "renamed". Reads only.',
    input: showChangesInput,
    readOnly: true,
    destructive: false,
  },
  fileHistory: {
    mcpName: 'file_history',
    lmName: 'recoveryPoints_fileHistory',
    title: 'Show a file\'s versions',
    description:
      'Lists the distinct versions of one file across the recovery points, newest first, following renames: each version once, at the point where it first appeared (point id, time, trigger, label, summary, who made it), with its content hash, lines added and removed against the version before, and whether it is the file on disk now; deletions are entries too (noLongerTracked: not deleted, still on disk, only no longer tracked); earlierRemoved: clean-up removed the points where the change may have happened ("before": the oldest kept point, the version may be older; "between": it happened in a removed point between the entry before and this one, or in this one). Read a version\'s text with {readFileVersion}. Reads only.',
    input: fileHistoryInput,
    readOnly: true,
    destructive: false,
  },
  readFileVersion: {
    mcpName: 'read_file_version',
    lmName: 'recoveryPoints_readFileVersion',
    title: 'Read a version of a file',
    description:
      'Returns the text of one version of a file: the file as a recovery point holds it (point and path), or a version {fileHistory} listed (version hash and the file\'s path; follows renames). Long text is cut at a line end after maxBytes and the answer says it was truncated; binary files are refused. Reads only; restore with {restorePoint} to bring a version back.',
    input: readFileVersionInput,
    readOnly: true,
    destructive: false,
  },
  searchHistory: {
    mcpName: 'search_history',
    lmName: 'recoveryPoints_searchHistory',
    title: 'Search the history',
    description:
      'Searches every version of every file the recovery points hold (each distinct content once, newest first) for text or a regular expression, optionally only in files matching path globs: for each matching version, where and when it was kept (path, first and last point holding it, their times) and its matching lines (line number and text). Finds code that was deleted or changed since. Results and time are bounded; the answer says when the search stopped early. Reads only.',
    input: searchHistoryInput,
    readOnly: true,
    destructive: false,
  },
  previewRestore: {
    mcpName: 'preview_restore',
    lmName: 'recoveryPoints_previewRestore',
    title: 'Preview a restore',
    description:
      'Shows what restoring a recovery point would do, without changing anything: the files it would create, overwrite and delete. Give paths to preview restoring only some files or folders, or one file. Call this before {restorePoint} to see what it will touch.',
    input: restoreInput,
    readOnly: true,
    destructive: false,
  },
  restorePoint: {
    mcpName: 'restore_point',
    lmName: 'recoveryPoints_restorePoint',
    title: 'Restore a recovery point',
    description: `Restores the workspace files to a recovery point: the whole point, or only the given files or folders. It overwrites files that differ, re-creates files the point has, and deletes tracked files the point did not have ({previewRestore} lists them first). ${UNDOABLE} ${UNTOUCHED} Returns the safety point's id and the files written and deleted.`,
    input: restoreInput,
    readOnly: false,
    destructive: true,
  },
  undoRestore: {
    mcpName: 'undo_restore',
    lmName: 'recoveryPoints_undoRestore',
    title: 'Undo the last restore',
    description: `Undoes the last restore (made by an agent or a person): puts back the files it changed, from the safety point made before it. The undo makes a safety point of its own, so it can be undone as well: calling it again right after redoes the restore, so do not retry it when it answered. ${UNTOUCHED}`,
    input: undoRestoreInput,
    readOnly: false,
    destructive: true,
  },
} as const satisfies Record<string, AgentToolSpec>;

export type AgentToolKey = keyof typeof AGENT_TOOLS;

/** The tool's description for one kind of client, other tools named as that client names them. */
export function toolDescription(spec: AgentToolSpec, client: 'mcp' | 'lm'): string {
  return spec.description.replace(/\{(\w+)\}/g, (_match, key: string) => {
    const other = (AGENT_TOOLS as Record<string, AgentToolSpec>)[key];
    if (!other) throw new Error(`No agent tool "${key}"`);
    return client === 'mcp' ? other.mcpName : other.lmName;
  });
}
