import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { formatPatch, structuredPatch } from 'diff';
import type { FileChange, FileInfo, TreeDiff } from '../capture';
import type { ObjectReader } from '../objects/objectStore';
import { isBinary } from './lineChanges';

export interface PatchOptions {
  /** Drop the first path segment (the workspace folder's name), so the patch applies inside that folder. */
  readonly stripFolder?: boolean;
  /** Carry binary files' bytes (as `git diff --binary` does) instead of noting "Binary files … differ". */
  readonly binary?: boolean;
}

/** Lines of context around each change, as git's default. */
const CONTEXT = 3;
/** Git looks for a NUL byte in the first 8,000 bytes to call a file binary. */
const BINARY_PROBE = 8000;
const NULL_ID = '0'.repeat(40);

/**
 * A unified diff of `diff` in git's format (`diff --git`, new/deleted file modes), which `git apply`
 * accepts: UTF-8 text files as hunks, binary files (a NUL byte) noted as git does, or with their bytes
 * when `binary` is set, and text in another encoding always with its bytes. Files come in path order.
 */
export async function unifiedPatch(objects: ObjectReader, diff: TreeDiff, options: PatchOptions = {}): Promise<string> {
  const changes = [...diff.added, ...diff.modified, ...diff.deleted].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: string[] = [];
  for (const change of changes) parts.push(await filePatch(objects, change, options));
  return parts.join('');
}

async function filePatch(objects: ObjectReader, change: FileChange, options: PatchOptions): Promise<string> {
  // a file that became a link (or the other way) is a deletion and a creation to git: it refuses a mode change to or from 120000
  if (change.before && change.after && (change.before.kind === 'l') !== (change.after.kind === 'l')) {
    const { before, after, path } = change;
    return (await filePatch(objects, { path, before }, options)) + (await filePatch(objects, { path, after }, options));
  }
  const name = options.stripFolder ? change.path.slice(change.path.indexOf('/') + 1) : change.path;
  const before = change.before ? await objects.readBlob(change.before.hash) : undefined;
  const after = change.after ? await objects.readBlob(change.after.hash) : undefined;
  const oldMode = change.before && gitMode(change.before);
  const newMode = change.after && gitMode(change.after);
  const oldText = before && asText(before);
  const newText = after && asText(after);
  const isText = (before === undefined || oldText !== undefined) && (after === undefined || newText !== undefined);
  // text in another encoding (no NUL, not UTF-8: Latin-1, Shift JIS) has no hunks a UTF-8 patch can
  // hold byte for byte: its bytes come along, so the patch still applies, as git's text diff would
  const encoded = (before === undefined || !isBinary(before)) && (after === undefined || !isBinary(after));
  if (!isText) return binaryPatch(name, before, after, oldMode, newMode, options.binary === true || encoded);
  const patch = structuredPatch(`a/${name}`, `b/${name}`, oldText ?? '', newText ?? '', undefined, undefined, { context: CONTEXT });
  patch.isGit = true;
  if (!before) {
    patch.isCreate = true;
    patch.oldFileName = '/dev/null';
    patch.newMode = newMode;
  } else if (!after) {
    patch.isDelete = true;
    patch.newFileName = '/dev/null';
    patch.oldMode = oldMode;
  } else if (oldMode !== newMode) {
    patch.oldMode = oldMode;
    patch.newMode = newMode;
  }
  // A modified file whose bytes and mode are the same (a point that only re-stamped it) has nothing to say.
  if (before && after && patch.hunks.length === 0 && oldMode === newMode) return '';
  return formatPatch(patch);
}

function binaryPatch(name: string, before: Buffer | undefined, after: Buffer | undefined, oldMode: string | undefined, newMode: string | undefined, withBytes: boolean): string {
  const a = quote(`a/${name}`);
  const b = quote(`b/${name}`);
  const lines = [`diff --git ${a} ${b}`];
  if (!before) lines.push(`new file mode ${newMode}`);
  else if (!after) lines.push(`deleted file mode ${oldMode}`);
  else if (oldMode !== newMode) lines.push(`old mode ${oldMode}`, `new mode ${newMode}`);
  const oldId = before ? gitBlobId(before) : NULL_ID;
  const newId = after ? gitBlobId(after) : NULL_ID;
  const sameMode = before && after && oldMode === newMode ? ` ${oldMode}` : '';
  if (!withBytes) {
    lines.push(`index ${oldId.slice(0, 7)}..${newId.slice(0, 7)}${sameMode}`);
    lines.push(`Binary files ${before ? a : '/dev/null'} and ${after ? b : '/dev/null'} differ`);
    return `${lines.join('\n')}\n`;
  }
  // `git apply` checks both full ids: the file it patches, and the result.
  lines.push(`index ${oldId}..${newId}${sameMode}`, 'GIT binary patch');
  // a large file's hunk has too many lines to pass as arguments
  for (const line of [...literal(after ?? Buffer.alloc(0)), '', ...literal(before ?? Buffer.alloc(0)), '']) lines.push(line);
  return `${lines.join('\n')}\n`;
}

/** A `literal` hunk of a git binary patch: the bytes deflated, in base85 lines of at most 52 bytes. */
function literal(bytes: Buffer): string[] {
  const deflated = deflateSync(bytes);
  const lines = [`literal ${bytes.length}`];
  for (let at = 0; at < deflated.length; at += 52) {
    const chunk = deflated.subarray(at, Math.min(at + 52, deflated.length));
    const length = chunk.length <= 26 ? String.fromCharCode(64 + chunk.length) : String.fromCharCode(96 + chunk.length - 26);
    lines.push(length + base85(chunk));
  }
  return lines;
}

const BASE85 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~';

/** Git's base85: each 4 bytes (zero-padded) as 5 characters, most significant first. */
function base85(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let acc = 0;
    for (let j = 0; j < 4; j++) acc = acc * 256 + (bytes[i + j] ?? 0);
    const group = new Array<string>(5);
    for (let k = 4; k >= 0; k--) {
      group[k] = BASE85[acc % 85]!;
      acc = Math.floor(acc / 85);
    }
    out += group.join('');
  }
  return out;
}

/** The id git gives a blob with these bytes. */
export function gitBlobId(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

function gitMode(file: FileInfo): string {
  if (file.kind === 'l') return '120000';
  return file.mode & 0o111 ? '100755' : '100644';
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of a file, or `undefined` for a binary one. */
function asText(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, BINARY_PROBE).includes(0)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** C-style quoting of a path with unusual characters, as git writes it. */
function quote(path: string): string {
  if (![...path].some((c) => c < ' ' || c > '~' || c === '"' || c === '\\')) return path;
  let out = '"';
  for (const byte of Buffer.from(path, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x09) out += '\\t';
    else if (byte < 0x20 || byte > 0x7e) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}
