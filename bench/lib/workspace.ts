/**
 * The benchmark's workspaces: a synthetic one generated from a seed, and a copy of real code (this
 * project's node_modules). Each exists twice, byte for byte the same: one copy for our core, one for
 * the shadow git repository, so a restore by one tool never disturbs the other. Every edit is applied
 * to both copies.
 */
import { createCipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isSecretPath } from '../../src/core/capture/inclusionRules';
import { Rng } from './random';

export interface Workspace {
  readonly label: string;
  readonly kind: 'synthetic' | 'real' | 'media';
  /** The copy our core captures and restores. */
  readonly ours: string;
  /** The copy the shadow git repository has as its work tree. */
  readonly git: string;
  readonly files: number;
  readonly bytes: number;
  readonly binaryFiles: number;
  readonly largeFiles: number;
  readonly folders: number;
  readonly maxDepth: number;
  readonly symlinks: number;
  /** Root-relative paths (with `/`) of small text files, in a seeded order: what the scenarios edit. */
  readonly editable: readonly string[];
  /** Seconds spent creating both copies. */
  readonly setupSeconds: number;
}

/** A fixed time far enough in the past that no file is "racily clean" for either tool. */
export const OLD_MTIME = new Date('2024-01-15T10:00:00Z');

const WORDS = (
  'const let var function return if else for while switch case break continue class extends implements interface type ' +
  'import export from default async await new this super null undefined true false try catch finally throw typeof ' +
  'value result index count items list map set get update create delete handle render props state config options ' +
  'request response error message data buffer stream path name id key user session token cache store logger event ' +
  'listener callback promise resolve reject timeout parse format encode decode validate schema model view controller ' +
  'service client server router query params headers status body payload context manager factory builder adapter'
).split(' ');
const OPS = ['=', '===', '!==', '+', '-', '*', '&&', '||', '=>', '?', ':', '.', ',', '(', ')', '[', ']', '{', '}', ';'];
const FOLDER_WORDS = (
  'src lib core utils components services models views controllers api server client shared common helpers hooks ' +
  'features modules config scripts tools internal public assets styles types tests fixtures data schemas adapters ' +
  'handlers middleware routes store state ui widgets pages layouts plugins providers workers jobs events domain infra'
).split(' ');
const TEXT_EXTS = ['.ts', '.ts', '.ts', '.js', '.js', '.tsx', '.json', '.md', '.css', '.txt', '.yaml', '.html'];
const BINARY_EXTS = ['.png', '.jpg', '.woff2', '.bin', '.zip', '.wasm'];

/** Code-like text of exactly `size` bytes (ASCII), different for every file. */
export function codeText(rng: Rng, size: number, header: string): Buffer {
  const parts: string[] = [header];
  const recent: string[] = [];
  let length = header.length;
  let indent = 0;
  while (length < size) {
    let line: string;
    if (recent.length > 8 && rng.next() < 0.3) {
      // real code repeats itself (imports, similar statements): reuse a recent line
      line = recent[rng.int(recent.length)]!;
    } else {
      const tokens = 3 + rng.int(8);
      line = ' '.repeat(indent * 2);
      for (let t = 0; t < tokens; t++) {
        const r = rng.int(10);
        if (r < 7) line += WORDS[rng.int(WORDS.length)]!;
        else if (r < 9) line += OPS[rng.int(OPS.length)]!;
        else line += String(rng.int(100));
        line += ' ';
      }
      const end = rng.int(8);
      if (end === 0 && indent < 6) {
        line += '{';
        indent++;
      } else if (end === 1 && indent > 0) {
        line += '}';
        indent--;
      } else line += ';';
      line += '\n';
      recent.push(line);
      if (recent.length > 40) recent.shift();
    }
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('').slice(0, size), 'latin1');
}

/** Incompressible bytes (AES-CTR keystream keyed by the seed and path). */
export function randomBytesFor(seed: string, rel: string, size: number): Buffer {
  const key = createHash('sha256').update(`${seed}\0${rel}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

export interface PlannedFile {
  rel: string;
  size: number;
  binary: boolean;
}

/**
 * ~`files` files, ~`files × 10 kB` in all (100 MB for 10,000): folders 2–6 deep (a few files at the
 * top), log-normal sizes (median ~2.6 kB), 3 % binary, one file in 2,000 large (1–5 MB).
 */
export function planSynthetic(files: number, seed: string): { files: PlannedFile[]; folders: string[] } {
  const rng = new Rng(`${seed}:plan:${files}`);
  const targetBytes = files * 10_000;
  // folders: a random tree, ~1 folder per 10 files, at most 6 deep
  const folderCount = Math.max(8, Math.round(files / 10));
  const folders: { rel: string; depth: number; children: Set<string> }[] = [];
  const top = { rel: '', depth: 0, children: new Set<string>() };
  const childName = (parent: { children: Set<string> }): string => {
    let name = rng.pick(FOLDER_WORDS);
    for (let n = 2; parent.children.has(name); n++) name = `${rng.pick(FOLDER_WORDS)}${n}`;
    parent.children.add(name);
    return name;
  };
  const firstLevel = Math.max(3, Math.min(12, Math.round(Math.sqrt(files) / 10)));
  for (let i = 0; i < firstLevel; i++) folders.push({ rel: childName(top), depth: 1, children: new Set() });
  while (folders.length < folderCount) {
    // prefer shallow parents a little, so depths spread over 2–6
    const candidates = folders.filter((f) => f.depth < 6);
    let parent = rng.pick(candidates);
    const other = rng.pick(candidates);
    if (other.depth < parent.depth && rng.next() < 0.5) parent = other;
    folders.push({ rel: `${parent.rel}/${childName(parent)}`, depth: parent.depth + 1, children: new Set() });
  }
  const deep = folders.filter((f) => f.depth >= 2);
  const fileNames = new Map<string, Set<string>>();
  const planned: PlannedFile[] = [];
  const place = (folder: string, binary: boolean, size: number, name?: string): void => {
    let names = fileNames.get(folder);
    if (!names) fileNames.set(folder, (names = new Set()));
    let base = name;
    if (base === undefined || names.has(base)) {
      const ext = binary ? rng.pick(BINARY_EXTS) : rng.pick(TEXT_EXTS);
      do base = `${rng.pick(WORDS)}${rng.pick(WORDS).replace(/^./, (c) => c.toUpperCase())}${rng.int(1000)}${ext}`;
      while (names.has(base));
    }
    names.add(base);
    planned.push({ rel: folder === '' ? base : `${folder}/${base}`, size, binary });
  };
  for (const name of ['README.md', 'package.json', 'tsconfig.json', 'CHANGELOG.md']) place('', false, 500 + rng.int(4000), name);
  const large = Math.max(1, Math.round(files / 2000));
  let largeBytes = 0;
  for (let i = 0; i < large; i++) {
    const size = 1_000_000 + rng.int(4_000_001);
    largeBytes += size;
    place(rng.pick(deep).rel, i % 2 === 1, size);
  }
  const smallCount = Math.max(0, files - planned.length);
  const sizes: number[] = [];
  for (let i = 0; i < smallCount; i++) sizes.push(Math.min(512_000, Math.max(20, rng.logNormal(2600, 1.25))));
  const smallTarget = Math.max(smallCount * 200, targetBytes - largeBytes - planned.slice(0, 4).reduce((s, f) => s + f.size, 0));
  const scale = smallTarget / sizes.reduce((s, x) => s + x, 0);
  for (const raw of sizes) {
    const binary = rng.next() < 0.03;
    const folder = rng.next() < 0.01 ? rng.pick(folders.filter((f) => f.depth === 1)).rel : rng.pick(deep).rel;
    place(folder, binary, Math.max(16, Math.round(raw * scale)));
  }
  return { files: planned, folders: folders.map((f) => f.rel) };
}

export function writeBoth(targets: readonly string[], rel: string, content: Buffer, mtime?: Date): void {
  for (const root of targets) {
    const file = path.join(root, ...rel.split('/'));
    fs.writeFileSync(file, content);
    if (mtime) fs.utimesSync(file, mtime, mtime);
  }
}

export function createSynthetic(baseDir: string, files: number, seed: string): Workspace {
  const started = performance.now();
  const label = `synthetic ${formatCount(files)} files`;
  const ours = path.join(baseDir, `synthetic-${files}-ours`);
  const git = path.join(baseDir, `synthetic-${files}-git`);
  for (const dir of [ours, git]) fs.rmSync(dir, { recursive: true, force: true });
  const plan = planSynthetic(files, seed);
  for (const root of [ours, git]) for (const folder of plan.folders) fs.mkdirSync(path.join(root, ...folder.split('/')), { recursive: true });
  let bytes = 0;
  let binaryFiles = 0;
  let largeFiles = 0;
  let maxDepth = 0;
  for (const file of plan.files) {
    const rng = new Rng(`${seed}:content:${file.rel}`);
    const content = file.binary ? randomBytesFor(seed, file.rel, file.size) : codeText(rng, file.size, `// ${file.rel} (${seed})\n`);
    writeBoth([ours, git], file.rel, content, OLD_MTIME);
    bytes += content.length;
    if (file.binary) binaryFiles++;
    if (file.size >= 1_000_000) largeFiles++;
    maxDepth = Math.max(maxDepth, file.rel.split('/').length - 1);
  }
  const order = new Rng(`${seed}:edits:${files}`);
  const editable = order.shuffle(plan.files.filter((f) => !f.binary && f.size >= 200 && f.size <= 64_000).map((f) => f.rel));
  return {
    label,
    kind: 'synthetic',
    ours,
    git,
    files: plan.files.length,
    bytes,
    binaryFiles,
    largeFiles,
    folders: plan.folders.length,
    maxDepth,
    symlinks: 0,
    editable,
    setupSeconds: (performance.now() - started) / 1000,
  };
}

/** Names our core never captures (built-in excludes): renamed in the copy so both tools see the same files. */
const RENAMED_FOLDERS = new Set(['node_modules', '.git', '.hg', '.svn']);
/** Files that would make git and us see different files or bytes: removed from the copy. */
const REMOVED_FILES = new Set(['.gitignore', '.gitattributes']);

/**
 * A copy of real code nobody here wrote: `source` (this project's node_modules) copied into
 * `<copy>/packages`, with nested node_modules/.git folders renamed and .gitignore/.gitattributes
 * removed, so the shadow repository and our core capture exactly the same files.
 */
export function createRealCopy(baseDir: string, source: string, seed: string): Workspace {
  const started = performance.now();
  const ours = path.join(baseDir, 'real-ours');
  const git = path.join(baseDir, 'real-git');
  for (const dir of [ours, git]) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(ours, { recursive: true });
  fs.cpSync(source, path.join(ours, 'packages'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  let files = 0;
  let bytes = 0;
  let binaryFiles = 0;
  let largeFiles = 0;
  let folders = 0;
  let maxDepth = 0;
  let symlinks = 0;
  const candidates: string[] = [];
  const walk = (rel: string, depth: number): void => {
    const abs = path.join(ours, ...rel.split('/').filter(Boolean));
    for (const dirent of fs.readdirSync(abs, { withFileTypes: true })) {
      let name = dirent.name;
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (dirent.isDirectory()) {
        if (RENAMED_FOLDERS.has(name)) {
          name = `_${name}`;
          fs.renameSync(path.join(abs, dirent.name), path.join(abs, name));
        }
        folders++;
        walk(rel === '' ? name : `${rel}/${name}`, depth + 1);
      } else if (dirent.isSymbolicLink()) {
        files++;
        symlinks++;
      } else if (dirent.isFile()) {
        if (REMOVED_FILES.has(name)) {
          fs.rmSync(path.join(abs, name));
          continue;
        }
        const stat = fs.statSync(path.join(abs, name));
        files++;
        bytes += stat.size;
        maxDepth = Math.max(maxDepth, depth);
        if (stat.size >= 1_000_000) largeFiles++;
        if (/\.(node|wasm|png|jpg|gif|woff2?|ttf|ico|gz|zip|exe|dll|so)$/i.test(name) || !/\.[a-z]+$/i.test(name)) binaryFiles++;
        // edited files both sides capture (ours leaves out secrets by default)
        if (/\.(js|ts|mjs|cjs|md|json)$/.test(name) && stat.size >= 200 && stat.size <= 64_000 && !isSecretPath(childRel)) candidates.push(childRel);
      }
    }
  };
  walk('', 0);
  fs.cpSync(ours, git, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  const order = new Rng(`${seed}:real-edits`);
  return {
    label: `real code (node_modules copy, ${formatCount(files)} files)`,
    kind: 'real',
    ours,
    git,
    files,
    bytes,
    binaryFiles,
    largeFiles,
    folders,
    maxDepth,
    symlinks,
    editable: order.shuffle(candidates.sort()),
    setupSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * Edits one text file the same way in both copies: a line is inserted in the middle (a typical save).
 * Returns the absolute path of the edited file in our copy (the save hint).
 */
export function editFile(ws: Workspace, rel: string, tag: string): string {
  return editIn([ws.ours, ws.git], rel, tag);
}

/** The edit of `editFile`, in the given copies (the first is read); returns the path in the first. */
export function editIn(roots: readonly string[], rel: string, tag: string): string {
  const file = path.join(roots[0]!, ...rel.split('/'));
  const before = fs.readFileSync(file);
  let at = before.indexOf(10, before.length >> 1);
  at = at < 0 ? before.length : at + 1;
  const after = Buffer.concat([before.subarray(0, at), Buffer.from(`/* edited: ${tag} */\n`), before.subarray(at)]);
  writeBoth(roots, rel, after);
  return file;
}

/** Hash of a file in each copy, to check that both tools restored the same bytes. */
export function contentHash(root: string, rel: string): string {
  try {
    return createHash('sha1').update(fs.readFileSync(path.join(root, ...rel.split('/')))).digest('hex');
  } catch {
    return 'missing';
  }
}

export function formatCount(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : n.toLocaleString('en-US');
}
