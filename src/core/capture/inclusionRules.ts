import { createHash } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';
import { errorCode } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { globalExcludesFile } from './gitConfig';
import type { WorkspaceRoot } from '../schemas';

/** What a recovery point captures. Changing any of these calls for a full scan, not a hint capture. */
export interface CaptureRules {
  /**
   * Leave out what git ignores: every `.gitignore` (nested ones relative to their folder), `.git/info/exclude`
   * and the global excludes file (`core.excludesFile`, default `~/.config/git/ignore`).
   */
  readonly respectGitignore: boolean;
  /** User globs (picomatch, `dot: true`) matched against the root-relative path with `/`, e.g. `dist/**`, `**\/*.log`. */
  readonly excludes: readonly string[];
  /** Leave out `DEFAULT_SECRET_EXCLUDES`. */
  readonly excludeSecrets: boolean;
  /** Files larger than this (bytes) are skipped and listed. */
  readonly maxFileSize: number;
}

export const DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024;

export const DEFAULT_CAPTURE_RULES: CaptureRules = Object.freeze({
  respectGitignore: true,
  excludes: Object.freeze([]) as readonly string[],
  excludeSecrets: true,
  maxFileSize: DEFAULT_MAX_FILE_SIZE,
});

/** Names (of a folder or a file) never captured at any depth: other tools' repositories and dependency folders. */
export const BUILTIN_EXCLUDES: readonly string[] = Object.freeze(['.git', 'node_modules', '.hg', '.svn']);

/**
 * Names of files (and folders) that usually hold secrets, left out by default at any depth. Each is
 * also left out with an editor's or a tool's backup and swap suffix (`SECRET_COPY_SUFFIXES`) and in
 * vim's swap form (`.id_rsa.swp`): those copies hold the same secret while it is edited.
 */
export const SECRET_NAMES: readonly string[] = Object.freeze([
  // keys
  'id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_ecdsa_sk', 'id_ed25519_sk',
  // credentials of tools
  '.npmrc', '.pypirc', '.netrc', '.git-credentials', '.pgpass', '.my.cnf', '.s3cfg', '.boto', '.terraformrc', 'terraform.rc',
  '.dockercfg', 'kubeconfig', '.htpasswd', '.vault-token',
  // credential and secret documents
  'credentials', 'credentials.json', 'secrets.json', 'secrets.yaml', 'secrets.yml', 'service-account.json', 'service_account.json',
  'gcloud-key.json', 'wallet.dat',
]);
/** `*<suffix>`: key stores, certificates with keys, VPN profiles (which embed keys), variable files. */
export const SECRET_SUFFIXES: readonly string[] = Object.freeze(['.pem', '.key', '.p12', '.pfx', '.ppk', '.keystore', '.jks', '.ovpn', '.tfvars', '.credentials.json']);
/** Every name starting with `.env` (`.env`, `.env.local`, `.envrc`, `.env_local`, `.env-dev`), except `SECRET_TEMPLATES`. */
export const SECRET_PREFIX = '.env';
/** Folders left out with everything inside. */
export const SECRET_FOLDERS: readonly string[] = Object.freeze(['.ssh', '.aws', '.gnupg']);
/** `<folder>/<name>`: a name that is a secret inside that folder only. */
export const SECRET_IN_FOLDER_PAIRS: readonly (readonly [folder: string, name: string])[] = Object.freeze([
  ['.docker', 'config.json'],
  ['.kube', 'config'],
]);
/** Suffixes of the copies editors and tools leave beside a file. */
export const SECRET_COPY_SUFFIXES: readonly string[] = Object.freeze(['~', '.bak', '.orig', '.swp', '.swo', '.tmp', '.old', '.save']);
/** Templates that hold no secret and that people want back: captured although they start with `.env`. */
export const SECRET_TEMPLATES: readonly string[] = Object.freeze(['.env.example', '.env.sample', '.env.template', '.env.dist']);

/** The globs of one secret name (or name pattern): itself, its backup and swap copies, vim's swap file. */
function withCopies(pattern: string): string[] {
  return [`**/${pattern}`, `**/${pattern}{${SECRET_COPY_SUFFIXES.join(',')}}`, `**/.${pattern}.{swp,swo}`];
}

/**
 * The secrets as picomatch globs (`dot: true`, case-insensitive, matched against the root-relative
 * path), paths matching `DEFAULT_SECRET_KEEP` excepted. `isSecretPath` is the same rule compiled.
 */
export const DEFAULT_SECRET_EXCLUDES: readonly string[] = Object.freeze([
  ...withCopies(`${SECRET_PREFIX}*`),
  ...SECRET_NAMES.flatMap(withCopies),
  ...SECRET_SUFFIXES.flatMap((suffix) => withCopies(`*${suffix}`)),
  ...SECRET_FOLDERS.flatMap((folder) => [...withCopies(folder), `**/${folder}/**`, `**/${folder}{${SECRET_COPY_SUFFIXES.join(',')}}/**`]),
  ...SECRET_IN_FOLDER_PAIRS.flatMap(([folder, name]) => withCopies(`${folder}/${name}`).map((glob) => glob.replace(`**/.${folder}/`, `**/${folder}/.`))),
]);
/** Folder names left out with everything inside (`isSecretPath(rel, true)`); other secret names leave out files only. */
export const SECRET_FOLDER_NAMES: readonly string[] = Object.freeze([...SECRET_FOLDERS, `${SECRET_PREFIX}*`]);
/** Globs of the templates kept although they look like secrets (picomatch's `ignore`). */
export const DEFAULT_SECRET_KEEP: readonly string[] = Object.freeze(SECRET_TEMPLATES.map((name) => `**/${name}`));

const BUILTIN = new Set(BUILTIN_EXCLUDES);

/**
 * Whether a file name is one of a restore's temporary files (`.<name>.rp-<8 hex>.tmp`, renamed into
 * place when written): file watchers ignore them. One left by a restore that was killed is captured
 * like any file, so the next restore, which does not have it in its point, removes it.
 */
export function isRestoreTempName(name: string): boolean {
  return name.endsWith('.tmp') && /^\..*\.rp-[0-9a-f]{8}\.tmp$/.test(name);
}

/**
 * `DEFAULT_SECRET_EXCLUDES` compiled into one test: the name (and the name a backup or swap copy
 * stands for) looked up in sets and suffix lists, instead of a hundred regular expressions per path.
 * It decides exactly as picomatch does with those globs (`dot: true, nocase: true`, `ignore:
 * DEFAULT_SECRET_KEEP`), which a test checks over many paths. Both are built from the lists above.
 */
const NAME_SET = new Set(SECRET_NAMES);
const FOLDER_SET = new Set(SECRET_FOLDERS);
const TEMPLATE_SET = new Set(SECRET_TEMPLATES);
const IN_FOLDER = new Map(SECRET_IN_FOLDER_PAIRS.map(([folder, name]) => [name, folder]));
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const COPY_SUFFIX = `(?:${SECRET_COPY_SUFFIXES.map(escapeRegExp).join('|')})`;
/** `<folder>/` or `<folder><copy suffix>/` anywhere in the path: everything inside. */
const SECRET_FOLDER_CONTENT = new RegExp(`(?:^|/)(?:${SECRET_FOLDERS.map(escapeRegExp).join('|')})${COPY_SUFFIX}?/`);

/** The names a file name may be a copy of: itself, without a backup suffix, inside vim's `.<name>.swp`. */
function originalNames(name: string): string[] {
  const names = [name];
  for (const suffix of SECRET_COPY_SUFFIXES) {
    if (name.length > suffix.length && name.endsWith(suffix)) names.push(name.slice(0, -suffix.length));
  }
  if (name.length > 5 && name.startsWith('.') && (name.endsWith('.swp') || name.endsWith('.swo'))) names.push(name.slice(1, -4));
  return names;
}

function isSecretName(name: string): boolean {
  if (NAME_SET.has(name) || FOLDER_SET.has(name) || name.startsWith(SECRET_PREFIX)) return true;
  for (const suffix of SECRET_SUFFIXES) if (name.endsWith(suffix)) return true;
  return false;
}

const NON_ASCII = /[\u0080-\uffff]/;
const ASCII_UPPER = /[A-Z]/g;

/**
 * Lower-cases ASCII letters only, as a case-insensitive regular expression (without the `u` flag)
 * compares them: `toLowerCase` would also turn non-ASCII letters into ASCII ones (K, the Kelvin sign, into `k`).
 */
function asciiLowerCase(text: string): string {
  if (!NON_ASCII.test(text)) return text.toLowerCase();
  return text.replace(ASCII_UPPER, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * Whether a root-relative path (`/`-separated, no empty parts) is a secret by `DEFAULT_SECRET_EXCLUDES`.
 * A folder (`isDir`) is left out with everything inside only by the folder rules (`SECRET_FOLDERS`,
 * names starting with `.env`): the names of credential documents and key files say what a file holds,
 * not a folder (`src/credentials/` of an SDK holds its source code).
 */
export function isSecretPath(rel: string, isDir = false): boolean {
  const lower = asciiLowerCase(rel);
  const slash = lower.lastIndexOf('/');
  const name = slash < 0 ? lower : lower.slice(slash + 1);
  if (TEMPLATE_SET.has(name)) return false;
  const originals = originalNames(name);
  if (isDir) return originals.some((original) => FOLDER_SET.has(original) || original.startsWith(SECRET_PREFIX)) || SECRET_FOLDER_CONTENT.test(lower);
  for (const original of originals) if (isSecretName(original)) return true;
  if (slash >= 0) {
    const parentName = lower.slice(lower.lastIndexOf('/', slash - 1) + 1, slash);
    for (const original of originals) if (IN_FOLDER.get(original) === parentName) return true;
  }
  return SECRET_FOLDER_CONTENT.test(lower);
}

const CASE_INSENSITIVE_FS = process.platform === 'win32' || process.platform === 'darwin';
/** Largest ignore file we read; a bigger one is treated as empty (and logged). */
const MAX_RULE_FILE_BYTES = 4 * 1024 * 1024;

/**
 * The git rules that apply to the entries of one folder: `.git/info/exclude`, then every `.gitignore`
 * from the root down to this folder, each rebased onto root-relative paths so that a single matcher
 * gives git's precedence (the last matching pattern wins, deeper files after shallower ones).
 * `null` when there are no rules.
 */
export interface FolderRules {
  readonly ignore: Ignore | null;
}

const NO_RULES: FolderRules = Object.freeze({ ignore: null });

/**
 * Parsed ignore files, per root path and folder. It lives as long as the capture cache (one per
 * store), so a hint capture reads only the ignore files it has not seen. A full scan replaces a
 * root's entries; a hint capture drops a folder's entries (and those below) when its `.gitignore`
 * is among the changed paths.
 */
export class GitignoreCache {
  private readonly roots = new Map<string, Map<string, Promise<LoadedFolder>>>();

  /** @internal */
  folders(rootPath: string): Map<string, Promise<LoadedFolder>> {
    let folders = this.roots.get(rootPath);
    if (!folders) {
      folders = new Map();
      this.roots.set(rootPath, folders);
    }
    return folders;
  }

  /** Forgets the rules of `dirRel` and of every folder below it. */
  invalidate(rootPath: string, dirRel: string): void {
    const folders = this.roots.get(rootPath);
    // A folder's rules are loaded after its parent's, so when `dirRel` has none cached, nothing below it has.
    if (!folders?.has(dirRel)) return;
    if (dirRel === '') {
      folders.clear();
      return;
    }
    const prefix = `${dirRel}/`;
    for (const key of [...folders.keys()]) if (key === dirRel || key.startsWith(prefix)) folders.delete(key);
  }

  /** Forgets everything about a root (a full scan reloads every ignore file it passes). */
  reset(rootPath: string): void {
    this.roots.get(rootPath)?.clear();
  }

  clear(): void {
    this.roots.clear();
  }
}

interface OutsideRules {
  readonly globalFile: string | null;
  readonly global: string | null;
  readonly exclude: string | null;
}

function outsideDigestOf(rules: OutsideRules): string {
  return createHash('sha256').update(JSON.stringify([rules.globalFile, rules.global, rules.exclude])).digest('hex').slice(0, 16);
}

/** A folder's rules and the ignore files they were made from (to tell whether a changed ignore file really changed). */
interface LoadedFolder {
  readonly rules: FolderRules;
  /** The folder's `.gitignore` as read (`null`: none). */
  readonly gitignore: string | null;
  /** For the root: `.git/info/exclude` as read. */
  readonly exclude?: string | null;
  /** For the root: `outsideRulesDigest`'s value as the rules were read. */
  readonly outsideDigest?: string;
}

/**
 * The folder whose git rules a changed path affects: `dir` for `dir/.gitignore`, the root for
 * `.git/info/exclude` (and for `.git` or `.git/info` appearing or going), otherwise `null`.
 */
export function ruleFileFolder(rel: string): string | null {
  if (rel === '.git' || rel === '.git/info' || rel === '.git/info/exclude') return '';
  if (rel === '.gitignore') return '';
  if (rel.endsWith('/.gitignore')) return rel.slice(0, -'/.gitignore'.length);
  return null;
}

/** Escapes a folder path for use as the start of a gitignore pattern. */
function escapeForPattern(dirRel: string): string {
  let escaped = dirRel.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
  if (escaped.startsWith('!') || escaped.startsWith('#')) escaped = `\\${escaped}`;
  return escaped;
}

/** Removes trailing spaces that are not escaped with a backslash, as git does. */
function trimTrailingSpaces(line: string): string {
  let end = line.length;
  while (end > 0 && line[end - 1] === ' ' && !(end > 1 && line[end - 2] === '\\')) end--;
  return line.slice(0, end);
}

/**
 * The patterns of a `.gitignore` in `dirRel`, rewritten to apply to root-relative paths and to that
 * folder only: a pattern with a slash (other than a trailing one) is anchored to the folder, one
 * without matches at any depth below it.
 */
export function rebaseGitignore(text: string, dirRel: string): string[] {
  const lines = text.split(/\r?\n/);
  if (dirRel === '') return lines;
  const prefix = escapeForPattern(dirRel);
  const out: string[] = [];
  for (const raw of lines) {
    if (raw === '' || raw.startsWith('#')) continue;
    const negative = raw.startsWith('!');
    const body = trimTrailingSpaces(negative ? raw.slice(1) : raw);
    if (body === '' || body === '/') continue;
    const core = body.endsWith('/') ? body.slice(0, -1) : body;
    const anchored = core.includes('/');
    const rebased = anchored ? `${prefix}/${body.replace(/^\//, '')}` : `${prefix}/**/${body}`;
    out.push(`${negative ? '!' : ''}${rebased}`);
  }
  return out;
}

/**
 * Reads an ignore file if it is a regular file. A symlinked `.gitignore` is not followed (as in git ≥ 2.32);
 * the global excludes file, outside the workspace, is (`follow`).
 */
async function readRuleFile(file: string, logger: Logger, follow = false): Promise<string | null> {
  try {
    const stat = follow ? await fs.stat(file) : await fs.lstat(file);
    return usableRuleFile(stat, file, logger) ? (await fs.readFile(file, 'utf8')).replace(/^\uFEFF/, '') : null;
  } catch (error) {
    return unreadableRuleFile(error, file, logger);
  }
}

/** Whether a rule file's stat allows reading it: a regular file, not too large (warned). */
function usableRuleFile(stat: fsSync.Stats, file: string, logger: Logger): boolean {
  if (!stat.isFile()) return false;
  if (stat.size <= MAX_RULE_FILE_BYTES) return true;
  logger.warn(`Ignoring ${file}: at ${stat.size} bytes it is too large to be an ignore file.`);
  return false;
}

function unreadableRuleFile(error: unknown, file: string, logger: Logger): null {
  const code = errorCode(error);
  if (code !== 'ENOENT' && code !== 'ENOTDIR') logger.warn(`Could not read ${file} (${code ?? String(error)}); its rules are not applied.`);
  return null;
}

/** `readRuleFile` with synchronous calls, for the few rule files a save's point checks again (a thread-pool round trip each otherwise). */
function readRuleFileSync(file: string, logger: Logger): string | null {
  try {
    // most folders have none: no error object (and its stack) made for each
    const stat = fsSync.lstatSync(file, { throwIfNoEntry: false });
    return stat && usableRuleFile(stat, file, logger) ? fsSync.readFileSync(file, 'utf8').replace(/^\uFEFF/, '') : null;
  } catch (error) {
    return unreadableRuleFile(error, file, logger);
  }
}

function parentRel(rel: string): string {
  const at = rel.lastIndexOf('/');
  return at < 0 ? '' : rel.slice(0, at);
}

/**
 * What leaves a path out: a built-in name (`.git`, `node_modules`, …), the store itself, the secret
 * excludes (`excludeSecrets`), the user's exclude globs, or git's ignore rules (`respectGitignore`).
 */
export type ExclusionRule = 'builtin' | 'store' | 'folder' | 'secret' | 'exclude' | 'gitignore';

/** Why a path is not captured: the rule, and the path it applies to (the path itself or a folder above it). */
export interface Exclusion {
  readonly rule: ExclusionRule;
  readonly path: string;
}

export interface InclusionOptions {
  /** Absolute paths never captured (the store folder). */
  readonly neverCapture?: readonly string[];
  /** The workspace's folders: one inside this root is its own, and this root leaves it out (each file belongs to the innermost folder). */
  readonly roots?: readonly WorkspaceRoot[];
  /** Parsed ignore files kept between captures; a private one is used when absent. */
  readonly gitignores?: GitignoreCache;
  readonly logger?: Logger;
  /**
   * The text of folder `dirRel`'s `.gitignore` where it is not the file on disk (`null`: none), as a
   * restore will leave it; `undefined`: read the disk. Use with a private `gitignores` cache.
   */
  readonly gitignoreText?: (dirRel: string) => Promise<string | null> | undefined;
}

/**
 * Decides what of one workspace root is captured. Paths are root-relative with `/`, no leading or
 * trailing slash; `''` is the root itself. Exclusion is decided entry by entry from the top: nothing
 * below an excluded folder is looked at (so, as in git, a negation cannot re-include a file inside an
 * excluded folder). Both the full scan (`folderRules` + `excludes` while walking) and the hint path
 * (`isIncluded`, which checks every ancestor) use the same checks, so they always agree.
 */
export class InclusionRules {
  private readonly excludeSecrets: boolean;
  private readonly userMatch: ((rel: string) => boolean) | null;
  private readonly folders: Map<string, Promise<LoadedFolder>>;
  private readonly logger: Logger;
  /**
   * The paths of one capture share most folders (a restore's 100 files, ~190 folders): each folder's
   * path rule (`null`: none), and what git's rules say of it or a folder above it, as promises so that
   * paths looked at together share them. The git verdicts are cleared with the rules they read.
   */
  private readonly folderRule = new Map<string, ExclusionRule | null>();
  private readonly folderByGit = new Map<string, Promise<Exclusion | undefined>>();

  private constructor(
    readonly root: WorkspaceRoot,
    readonly rules: CaptureRules,
    private readonly never: ReadonlyMap<string, ExclusionRule>,
    private readonly gitignores: GitignoreCache,
    logger: Logger | undefined,
    private readonly gitignoreText?: InclusionOptions['gitignoreText'],
  ) {
    this.logger = logger ?? silentLogger;
    this.excludeSecrets = rules.excludeSecrets;
    const userGlobs = rules.excludes.filter((glob) => glob.trim() !== '');
    this.userMatch = userGlobs.length > 0 ? picomatch(userGlobs, { dot: true, nocase: CASE_INSENSITIVE_FS }) : null;
    this.folders = gitignores.folders(root.path);
  }

  static async create(root: WorkspaceRoot, rules: CaptureRules, options: InclusionOptions = {}): Promise<InclusionRules> {
    const never = new Map<string, ExclusionRule>();
    const rootPaths = new Set([path.resolve(root.path), root.realPath ?? realpathOr(root.path)]);
    const leaveOut = (excluded: string, rule: ExclusionRule) => {
      for (const candidate of new Set([path.resolve(excluded), realpathOr(excluded)])) {
        for (const rootPath of rootPaths) {
          const rel = path.relative(rootPath, candidate);
          if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) continue;
          never.set(rel.split(path.sep).join('/'), rule);
        }
      }
    };
    for (const excluded of options.neverCapture ?? []) leaveOut(excluded, 'store');
    for (const other of options.roots ?? []) leaveOut(other.path, 'folder');
    return new InclusionRules(root, rules, never, options.gitignores ?? new GitignoreCache(), options.logger, options.gitignoreText);
  }

  /**
   * Whether an entry is left out by a rule that looks at its path only (built-in names, the store,
   * secrets, user globs) — no file is read. Checks `rel` itself, not its ancestors.
   */
  excludedByPath(rel: string, isDir: boolean): boolean {
    return this.pathRule(rel, isDir) !== undefined;
  }

  /** The path-only rule that leaves `rel` itself out, if any (a folder's, remembered). */
  private pathRule(rel: string, isDir: boolean): ExclusionRule | undefined {
    if (!isDir) return this.ruleOfPath(rel, false);
    let rule = this.folderRule.get(rel);
    if (rule === undefined) {
      rule = this.ruleOfPath(rel, true) ?? null;
      this.folderRule.set(rel, rule);
    }
    return rule ?? undefined;
  }

  private ruleOfPath(rel: string, isDir: boolean): ExclusionRule | undefined {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (BUILTIN.has(name)) return 'builtin';
    const never = this.never.get(rel);
    if (never !== undefined) return never;
    if (this.excludeSecrets && isSecretPath(rel, isDir)) return 'secret';
    if (this.userMatch?.(rel)) return 'exclude';
    return undefined;
  }

  /** Whether git's rules (as loaded for the entry's folder) leave the entry out. */
  excludedByGit(rel: string, isDir: boolean, folder: FolderRules): boolean {
    if (!folder.ignore) return false;
    try {
      return folder.ignore.ignores(isDir ? `${rel}/` : rel);
    } catch {
      return false; // a path `ignore` refuses to judge is not ignored
    }
  }

  /** One entry, given the rules of its folder; its ancestors are assumed included. */
  excludes(rel: string, isDir: boolean, folder: FolderRules): boolean {
    return this.excludedByPath(rel, isDir) || this.excludedByGit(rel, isDir, folder);
  }

  /**
   * The git rules for the entries of folder `dirRel` (cached). During a full scan pass `hasGitignore`
   * (from the folder listing) to save a look-up; otherwise the `.gitignore` is looked for on disk.
   * Call only for folders whose ancestors are real folders (not symlinks).
   */
  async folderRules(dirRel: string, hasGitignore?: boolean): Promise<FolderRules> {
    if (!this.rules.respectGitignore) return NO_RULES;
    return (await this.loaded(dirRel, hasGitignore)).rules;
  }

  private loaded(dirRel: string, hasGitignore?: boolean): Promise<LoadedFolder> {
    let loaded = this.folders.get(dirRel);
    if (!loaded) {
      loaded = this.loadFolder(dirRel, hasGitignore);
      this.folders.set(dirRel, loaded);
    }
    return loaded;
  }

  /** Whether the rules of folder `dirRel` are cached: `ruleFileUnchanged` tells a change only against rules read before it. */
  hasCachedRules(dirRel: string): boolean {
    return this.folders.has(dirRel);
  }

  /**
   * Whether the ignore file at `rel` (a `.gitignore`, or `.git/info/exclude` also when `.git` or
   * `.git/info` is given) reads as it did when its folder's rules were cached: then its rules did
   * not change. `false` when they are not cached.
   */
  async ruleFileUnchanged(rel: string): Promise<boolean> {
    const folder = ruleFileFolder(rel);
    if (folder === null) return false;
    const cached = this.folders.get(folder);
    if (!cached) return false;
    const loaded = await cached;
    const isExclude = rel === '.git' || rel.startsWith('.git/');
    const recorded = isExclude ? loaded.exclude : loaded.gitignore;
    if (recorded === undefined) return false;
    const file = isExclude ? path.join(this.root.path, '.git', 'info', 'exclude') : path.join(this.root.path, ...rel.split('/'));
    return readRuleFileSync(file, this.logger) === recorded;
  }

  /**
   * Whether `.git/info/exclude` no longer reads as it did when the root's rules were cached (`false`
   * when they are not cached: they will be read fresh). File watchers often leave `.git` out, so a
   * hint capture cannot count on being told of this file.
   */
  async excludeFileChanged(): Promise<boolean> {
    const cached = this.folders.get('');
    if (!cached) return false;
    const recorded = (await cached).exclude;
    if (recorded === undefined) return false;
    return readRuleFileSync(path.join(this.root.path, '.git', 'info', 'exclude'), this.logger) !== recorded;
  }

  /**
   * A digest (16 hex digits) of the git rules that are no file of the workspace, so no point records
   * them: the global excludes file (its path and text) and `.git/info/exclude`, as cached (read now
   * when they are not). A point keeps it per folder, so that a later capture in another process can
   * tell they changed. `undefined` when git's rules are not followed.
   */
  async outsideRulesDigest(): Promise<string | undefined> {
    if (!this.rules.respectGitignore) return undefined;
    const cached = this.folders.get('');
    // read without caching the root's rules: a capture tells a changed `.gitignore` only against rules read before it
    return cached ? (await cached).outsideDigest : outsideDigestOf(await this.outsideRules());
  }

  /** The git rules of the root that are no file of it: the global excludes file (path and text), `.git/info/exclude`. */
  private async outsideRules(): Promise<OutsideRules> {
    const globalFile = await globalExcludesFile(this.root.path);
    const global = globalFile === null ? null : await readRuleFile(globalFile, this.logger, true);
    const exclude = await readRuleFile(path.join(this.root.path, '.git', 'info', 'exclude'), this.logger);
    return { globalFile, global, exclude };
  }

  /** Whether `rel` is captured: neither it nor any ancestor is excluded. Reads (and caches) the ancestors' ignore files. */
  async isIncluded(rel: string, isDir: boolean): Promise<boolean> {
    return (await this.exclusion(rel, isDir)) === undefined;
  }

  /**
   * Why `rel` is not captured: the rule, and the path it applies to (`rel` or an ancestor); undefined
   * when it is captured. Path rules are checked before git's, as the scan does.
   */
  async exclusion(rel: string, isDir: boolean): Promise<Exclusion | undefined> {
    if (rel === '') return undefined;
    return this.pathExclusion(rel, isDir) ?? (this.rules.respectGitignore ? this.gitExclusion(rel, isDir) : undefined);
  }

  /** The path rule that leaves out `rel` or a folder above it, the topmost first. */
  private pathExclusion(rel: string, isDir: boolean): Exclusion | undefined {
    for (let slash = rel.indexOf('/'); slash >= 0; slash = rel.indexOf('/', slash + 1)) {
      const folder = rel.slice(0, slash);
      const rule = this.pathRule(folder, true);
      if (rule) return { rule, path: folder };
    }
    const rule = this.pathRule(rel, isDir);
    return rule && { rule, path: rel };
  }

  /** Whether git's rules leave out `rel` or a folder above it (the topmost first). */
  private async gitExclusion(rel: string, isDir: boolean): Promise<Exclusion | undefined> {
    const parent = parentRel(rel);
    if (parent !== '') {
      let above = this.folderByGit.get(parent);
      if (!above) {
        above = this.gitExclusion(parent, true);
        this.folderByGit.set(parent, above);
      }
      const found = await above;
      if (found) return found;
    }
    return this.excludedByGit(rel, isDir, await this.folderRules(parent)) ? { rule: 'gitignore', path: rel } : undefined;
  }

  /** Drops the cached rules of `dirRel` and below (its `.gitignore` changed). */
  invalidate(dirRel: string): void {
    this.gitignores.invalidate(this.root.path, dirRel);
    this.folderByGit.clear();
  }

  /** Drops every cached rule of this root (a full scan reads them all again). */
  resetCache(): void {
    this.folders.clear();
    this.folderByGit.clear();
  }

  private async loadFolder(dirRel: string, hasGitignore: boolean | undefined): Promise<LoadedFolder> {
    let base: FolderRules;
    let exclude: string | null | undefined;
    let outsideDigest: string | undefined;
    if (dirRel === '') {
      // git's order: the global excludes file, then `.git/info/exclude`, then the `.gitignore` files (each wins over the ones before)
      const outside = await this.outsideRules();
      base = outside.global === null ? NO_RULES : this.matcher(NO_RULES, outside.global.split(/\r?\n/), outside.globalFile!);
      exclude = outside.exclude;
      if (exclude !== null) base = this.matcher(base, exclude.split(/\r?\n/), '.git/info/exclude');
      outsideDigest = outsideDigestOf(outside);
    } else {
      base = await this.folderRules(parentRel(dirRel));
    }
    if (hasGitignore === false) return { rules: base, gitignore: null, exclude, outsideDigest };
    const file = path.join(this.root.path, ...(dirRel === '' ? [] : dirRel.split('/')), '.gitignore');
    // a hint capture looks up the few folders on its paths: synchronously (a thread-pool round trip each otherwise)
    const given = this.gitignoreText?.(dirRel);
    const gitignore = given !== undefined ? await given : hasGitignore === undefined ? readRuleFileSync(file, this.logger) : await readRuleFile(file, this.logger);
    const rules = gitignore === null ? base : this.matcher(base, rebaseGitignore(gitignore, dirRel), file);
    return { rules, gitignore, exclude, outsideDigest };
  }

  /** `patterns` as `ignore` can match them in bounded time: repeated `**` collapsed, and those with more than MAX_GLOBSTARS left out (said in the log). */
  private matchable(patterns: readonly string[], from: string): string[] {
    const kept: string[] = [];
    for (const pattern of patterns) {
      const collapsed = collapseGlobstars(pattern);
      if ((collapsed.match(/(?:^|\/)\*\*(?=\/|$)/g)?.length ?? 0) <= MAX_GLOBSTARS) kept.push(collapsed);
      else this.logger.warn(`The rule "${pattern.slice(0, 200)}" of ${from} has more than ${MAX_GLOBSTARS} "**" and is left out: matching it could take minutes.`);
    }
    return kept;
  }

  /** `base`'s rules followed by `patterns` (which win over them). */
  private matcher(base: FolderRules, patterns: string[], from: string): FolderRules {
    try {
      const matcher = ignore({ ignorecase: CASE_INSENSITIVE_FS });
      if (base.ignore) matcher.add(base.ignore);
      matcher.add(this.matchable(patterns, from));
      return { ignore: matcher };
    } catch (error) {
      this.logger.warn(`Could not use the rules of ${from} (${String(error)}).`);
      return base;
    }
  }
}

// "a/**" + "/**/b" is "a/**/b". A pattern with more "**" than MAX_GLOBSTARS leaves: its regular expression
// takes exponential time on deep paths (minutes for one path, with the capture stuck in it).
const MAX_GLOBSTARS = 3;

function collapseGlobstars(pattern: string): string {
  return pattern.replace(/(^|\/)\*\*(?:\/\*\*)+(?=\/|$)/g, '$1**');
}

/** Synchronous: `realpath(3)` is a few in-kernel look-ups, less than a thread-pool round trip. */
function realpathOr(p: string): string {
  try {
    return fsSync.realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}
