/** Moving history: bundles (export, import) and adopting the store of a moved folder. */
export { bundleTargetProblem, exportBundle, type ExportOptions, type ExportResult } from './exportBundle';
export { importBundle, type ImportResult } from './importBundle';
export { BUNDLE_FORMAT, BUNDLE_VERSION, NotABundle } from './bundleFormat';
export { adoptStore, MOVED_MARKER, movedTo, type AdoptResult } from './adoptStore';
export { findMovedStores, folderFiles, matchScore, MATCH_THRESHOLD, type FolderFiles, type MatchScore, type MovedStore } from './storeMatch';
export { copyHistory, findFolderHistories, type FolderHistory } from './copyHistory';
