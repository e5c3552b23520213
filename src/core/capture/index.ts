/** Capturing the workspace into content-addressed trees, and reading those trees back. */
export { captureWorkspace, type CaptureInput, type CaptureResult, type KnownFile, type SavedContent, type SkippedPath } from './capture';
export { CaptureCache, RACY_WINDOW_MS, sameFileStamp, type FileStamp } from './captureCache';
export {
  BUILTIN_EXCLUDES,
  isRestoreTempName,
  DEFAULT_CAPTURE_RULES,
  DEFAULT_MAX_FILE_SIZE,
  DEFAULT_SECRET_EXCLUDES,
  DEFAULT_SECRET_KEEP,
  GitignoreCache,
  SECRET_FOLDER_NAMES,
  InclusionRules,
  isSecretPath,
  rebaseGitignore,
  ruleFileFolder,
  type CaptureRules,
  type ExclusionRule,
  type FolderRules,
  type InclusionOptions,
} from './inclusionRules';
export { countChanges, countFiles, diffTrees, listFiles, lookupEntry, type EntryInfo, type FileChange, type FileInfo, type TreeDiff, type WalkOptions } from './treeWalk';
export { movedPrefixes, pairRenames, withoutRenamed, type RenamedFile } from './renames';
export { headsMovedSince, readGitActions, readGitHead, switchedHead, withGitHeads, type MovedHead } from './gitHead';
export { existedBefore, isNowTracked, isUntracked, modifiedSince, stillOnDisk, trackingCounts } from './untracked';
