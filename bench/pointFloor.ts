/**
 * The file-system floor of a one-file point (#14 target 5): the system calls a point of this store
 * format makes, done bare in a loop with no store code around them, so what a point costs above them
 * is the store's own work. Prints one Markdown table: each step's mean time in ms, for store format 2
 * (the lock a hard link of the taker's own file, the point's pack with its two fsyncs, the index's and
 * the audit log's appended lines), for format 1 (the lock a folder with an owner file, and the
 * manifest file written through a temporary file and a rename) and without any lock (what a point of
 * this write order cannot go below).
 *   node --import tsx bench/pointFloor.ts [--points N] [--dirty BYTES] [--tmp DIR]
 * `--dirty BYTES`: another program writes that many bytes (no fsync) before each point, as git's
 * commit does between our points in the bench's rounds; on ext4 (data=ordered) the point's fsync
 * writes them out too.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { numberOption, optionValue } from './lib/scriptOptions';

const points = numberOption('--points', 300);
const dirty = numberOption('--dirty', 0);
const root = fs.mkdtempSync(path.join(optionValue('--tmp') ?? os.tmpdir(), 'rp-point-floor-'));

type Steps = Record<string, number>;

interface Format {
  readonly lock: 'folder' | 'link' | 'none';
  readonly manifest: boolean;
}

function point(dir: string, n: number, content: Buffer, format: Format): Steps {
  const steps: Steps = {};
  let at = process.hrtime.bigint();
  const lap = (step: string) => {
    const now = process.hrtime.bigint();
    steps[step] = Number(now - at) / 1e6;
    at = now;
  };
  if (dirty > 0) {
    fs.writeFileSync(path.join(dir, 'other-program', `f${n % 4}`), Buffer.alloc(dirty, n));
    at = process.hrtime.bigint();
  }
  const lock = path.join(dir, 'store.lock');
  const writer = path.join(dir, 'writer.lock');
  if (format.lock === 'folder') {
    fs.mkdirSync(lock);
    fs.closeSync(fs.openSync(path.join(lock, 'owner'), 'wx', 0o600));
    lap('lock (format 1): mkdir + owner file');
  } else if (format.lock === 'link') {
    fs.linkSync(path.join(dir, 'writer.lock.own'), writer);
    lap('lock (format 2): link');
  }
  const hash = createHash('sha256').update(content).digest('hex');
  const stored = deflateRawSync(content, { level: 1 });
  lap('hash + deflate of a 6 kB file');
  const partial = path.join(dir, 'objects', `tmp-${n}.pack.partial`);
  const fd = fs.openSync(partial, 'w', 0o600);
  lap('pack: create');
  fs.writeSync(fd, stored);
  fs.writeSync(fd, Buffer.alloc(700));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  lap('pack: write + fsync');
  fs.renameSync(partial, path.join(dir, 'objects', `point-${n}-${hash}.pack`));
  const folder = fs.openSync(path.join(dir, 'objects'), 'r');
  fs.fsyncSync(folder);
  fs.closeSync(folder);
  lap('pack: rename + fsync of objects/');
  if (format.manifest) {
    const manifest = path.join(dir, 'points', `${n}.json`);
    fs.writeFileSync(`${manifest}.${n}`, content.subarray(0, 1500), { mode: 0o600 });
    fs.renameSync(`${manifest}.${n}`, manifest);
    lap('manifest file: temporary + rename');
  }
  fs.appendFileSync(path.join(dir, 'points', 'index.journal'), `${content.subarray(0, 150).toString('hex')}\n`);
  fs.appendFileSync(path.join(dir, 'audit.log.jsonl'), `${content.subarray(0, 100).toString('hex')}\n`);
  lap('index + audit lines appended');
  if (format.lock === 'folder') {
    fs.unlinkSync(path.join(lock, 'owner'));
    fs.rmdirSync(lock);
    lap('release (format 1): unlink + rmdir');
  } else if (format.lock === 'link') {
    fs.lstatSync(writer);
    fs.unlinkSync(writer);
    lap('release (format 2): lstat + unlink');
  }
  return steps;
}

function run(name: string, format: Format): { name: string; steps: Steps; total: number } {
  const dir = path.join(root, name);
  for (const sub of ['objects', 'points', 'other-program']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.writeFileSync(path.join(dir, 'writer.lock.own'), 'owner', { mode: 0o600 });
  const content = Buffer.from(randomBytes(3000).toString('hex'));
  const sums: Steps = {};
  for (let n = 0; n < points; n++) {
    for (const [step, ms] of Object.entries(point(dir, n, content, format))) sums[step] = (sums[step] ?? 0) + ms;
  }
  const steps = Object.fromEntries(Object.entries(sums).map(([step, ms]) => [step, ms / points]));
  return { name, steps, total: Object.values(steps).reduce((a, b) => a + b, 0) };
}

try {
  // each format twice, taking turns, so neither gets the quieter moment alone
  const formats: Array<[string, Format]> = [
    ['format 2', { lock: 'link', manifest: false }],
    ['format 1', { lock: 'folder', manifest: true }],
    ['no lock', { lock: 'none', manifest: false }],
  ];
  const runs = [...formats, ...formats].map(([name, format], i) => run(i < formats.length ? name : `${name} (again)`, format));
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.steps)))];
  const fmt = (ms: number | undefined) => (ms === undefined ? '—' : ms.toFixed(3));
  console.log(`Mean per point over ${points} points${dirty > 0 ? `, ${dirty} bytes of another program's data written before each` : ''} (ms)\n`);
  console.log(`| Step | ${runs.map((r) => r.name).join(' | ')} |`);
  console.log(`| --- | ${runs.map(() => '---:').join(' | ')} |`);
  for (const step of names) console.log(`| ${step} | ${runs.map((r) => fmt(r.steps[step])).join(' | ')} |`);
  console.log(`| **all** | ${runs.map((r) => `**${fmt(r.total)}**`).join(' | ')} |`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
