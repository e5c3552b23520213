import type { KnownFile, SavedContent, TreeDiff } from '../capture';
import type { ContextSnapshot, ContextState, PointSummary, Trigger } from '../schemas';

export interface SnapshotOptions {
  readonly trigger?: Trigger;
  readonly label?: string | null;
  /** The AI agent whose hook asks for the point ("Claude Code"): recorded in the point (trigger `agent`). */
  readonly agent?: string;
  /** What caused the point, in words ("Saved app.ts"); derived from the trigger and changes when absent. */
  readonly summary?: string;
  /** The point's name when its capture goes by `changedPaths`; when the store scans every file instead, the name is made from what it found (the hint named only part of it). */
  readonly summaryIfHinted?: string;
  /** The changes of an `external` point happened while automatic points were off: named so ("Changed while automatic points were off: app.ts"). */
  readonly whileAutomaticOff?: boolean;
  /**
   * For a start-up point (`startup`): when the editor opened (ms since the epoch). Its files modified on
   * disk since then (a save while the extension was still starting) are not named as changed while the
   * editor was closed ("Changed since the editor opened: app.ts").
   */
  readonly openedAt?: number;
  /**
   * Files the caller itself just wrote (absolute paths; a path stands for the files that start with it
   * too), each with what wrote them: changes to them are named so ("Turned automatic recovery points on
   * (settings.json)"), the others as usual after it. Used only when the point is named from its changes.
   */
  readonly ownChanges?: readonly { readonly prefix: string; readonly name: string }[];
  /** Paths known to have changed since the newest point (a save, a watcher event): only they are examined. */
  readonly changedPaths?: readonly string[];
  /**
   * A save's files (absolute paths), given though the point checks every file (the editor could not
   * vouch for what it saw): its name says these were saved and the rest changed outside the editor.
   * Without it, `changedPaths` stand for them.
   */
  readonly savedPaths?: readonly string[];
  /** What the editor saved of files changed on disk since (`CaptureInput.savedContent`): the point holds the saved bytes. */
  readonly savedContent?: ReadonlyMap<string, SavedContent>;
  /** `changedPaths` come from a file watcher, which can miss an event: their folders are listed too (`CaptureInput.listHintedFolders`). */
  readonly listHintedFolders?: boolean;
  /** Return `undefined` instead of writing a point whose files equal the newest point's, or a first point of no files (automatic points). */
  readonly skipIfUnchanged?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (message: string) => void;
  /** Told how the point is captured: over the hinted paths, or by a scan of everything (no usable parent, changed rules or folders). */
  readonly onCaptureMode?: (mode: 'hint' | 'full') => void;
  /** Files just written whose content is known (a restore's): taken without reading them again while their stat is unchanged. */
  readonly knownFiles?: ReadonlyMap<string, KnownFile>;
  /** A stored root tree whose folders the rebuilt ones probably equal (a restore's result: the restored point); see `CaptureInput.likelyRoot`. */
  readonly likelyRoot?: string;
  /** A point a person waits on (a restore's safety point): its new files are written uncompressed, for the next repack to compress. */
  readonly deferCompression?: boolean;
  /**
   * The point's files, known without a capture (a restore that carried out every change of its plan):
   * taken while the newest point is still `parentId` and nothing would make a capture see otherwise
   * (`knownCapture`); else the capture runs as the other options say. `knownFiles` gives the written files' stats.
   */
  readonly knownTree?: KnownTree;
}

/** A point's files known to the caller: a stored root tree and how it differs from the newest point. */
export interface KnownTree {
  /** The newest point the tree was planned against (a restore's safety point). */
  readonly parentId: string;
  /** A stored root tree (the restored point's), with its point's file count, size and rules digest. */
  readonly root: string;
  readonly fileCount: number;
  readonly totalSize: number;
  readonly rules: string;
  /** How `root` differs from the parent's files, in point paths. */
  readonly changes: TreeDiff;
}

/** The spec's storage interface. */
export interface StateRepository {
  storeState(state: ContextState): Promise<void>;
  loadState(): Promise<ContextState | undefined>;
  createSnapshot(state: ContextState, options?: SnapshotOptions): Promise<ContextSnapshot | undefined>;
  loadSnapshot(id: string): Promise<ContextSnapshot | undefined>;
  /**
   * Every point, newest first, without the state each captured (load one with `loadSnapshot`).
   * `deletesNothing`: nothing is deleted or collected by this listing, so it may be the one this
   * process knows while the store is provably unchanged (under the lock; see `KnownListing`).
   */
  listSnapshots(options?: { deletesNothing?: boolean }): Promise<PointSummary[]>;
}
