/**
 * Summaries of a V8 CPU profile (`node --cpu-prof`), limited to the measured window: where the time
 * goes by category (hashing, compression, file-system calls, JSON, zod, locking, idle = waiting for
 * the thread pool or the disk, garbage collection) and the functions with the most self and total time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  readonly windowMs: number;
  readonly sampledMs: number;
  readonly categories: Array<{ category: string; ms: number; share: number }>;
  readonly topSelf: Array<{ fn: string; ms: number; share: number }>;
  readonly topTotal: Array<{ fn: string; ms: number; share: number }>;
}

const ROOT = path.resolve(__dirname, '..', '..');

function shortUrl(url: string): string {
  if (url === '') return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length + 1);
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm + 'node_modules/'.length);
  return u;
}

function frameKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  const url = shortUrl(frame.url);
  if (url === '') return name;
  return `${name} ${url}:${frame.lineNumber + 1}`;
}

export function categoryOf(frame: CallFrame): string {
  const name = frame.functionName;
  const url = frame.url;
  if (name === '(idle)') return 'idle: waiting for I/O (thread-pool reads/writes, fsync, child processes)';
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(program)') return 'native code outside JS frames (program)';
  if (name === '(root)') return 'native code outside JS frames (program)';
  if (url.includes('node_modules/zod')) return 'zod validation';
  if (url.includes('proper-lockfile') || url.includes('graceful-fs') || url.includes('retry')) return 'store lock';
  if (url.includes('write-file-atomic') || url.includes('signal-exit') || url.includes('imurmurhash')) return 'write-file-atomic';
  if (url.includes('node_modules/ignore') || url.includes('picomatch')) return 'inclusion rules (ignore, picomatch)';
  if (url.includes('node_modules/tsx') || url.includes('esbuild')) return 'TypeScript loader (tsx)';
  if (url.startsWith('node:internal/crypto') || url === 'node:crypto') return 'hashing (SHA-256, node:crypto)';
  if (url === 'node:zlib' || url.startsWith('node:internal/zlib')) return 'compression (zlib)';
  if (url.startsWith('node:internal/fs') || url === 'node:fs' || url === 'node:fs/promises') return 'file-system calls (node:fs)';
  if (url === '' && (name === 'parse' || name === 'stringify' || name === 'JSONParse' || name === 'JSONStringify')) return 'JSON parse/stringify';
  if (url.includes('/src/core/')) return `core: ${url.slice(url.indexOf('/src/core/') + 10)}`;
  if (url.includes('/bench/')) return 'benchmark harness (file edits)';
  if (url.startsWith('node:')) return 'node internals (promises, streams, timers, buffers)';
  if (url === '') return `built-ins (${name || 'anonymous'})`;
  return `other: ${shortUrl(url).split('/')[0]}`;
}

/** Summarises the samples between `fromUs` and `toUs` (the clock of process.hrtime, in µs). */
export function summarizeProfile(file: string, fromUs?: number, toUs?: number, top = 12): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const from = fromUs ?? profile.startTime;
  const to = toUs ?? profile.endTime;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const categories = new Map<string, number>();
  let t = profile.startTime;
  let sampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    if (t < from || t > to) continue;
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i]!) / 1000;
    sampled += dt;
    const leaf = byId.get(profile.samples[i]!)!;
    const key = frameKey(leaf.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    // the category of the nearest frame that has one other than "node internals"
    let category = categoryOf(leaf.callFrame);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const k = frameKey(frame);
      if (!seen.has(k)) {
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + dt);
      }
      if (category.startsWith('node internals') || category.startsWith('built-ins')) {
        const up = categoryOf(frame);
        if (!up.startsWith('node internals') && !up.startsWith('built-ins') && !up.startsWith('native')) category = `${up} (via node internals)`;
      }
    }
    categories.set(category, (categories.get(category) ?? 0) + dt);
  }
  const list = (m: Map<string, number>, key: 'category' | 'fn') =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, ms]) => ({ [key]: k, ms: Math.round(ms * 10) / 10, share: sampled > 0 ? Math.round((ms / sampled) * 1000) / 10 : 0 }));
  return {
    windowMs: Math.round((to - from) / 100) / 10,
    sampledMs: Math.round(sampled * 10) / 10,
    categories: list(categories, 'category') as ProfileSummary['categories'],
    topSelf: (list(self, 'fn') as ProfileSummary['topSelf']).slice(0, top),
    topTotal: (list(total, 'fn') as ProfileSummary['topTotal']).filter((x) => !x.fn.startsWith('(root)') && !x.fn.startsWith('processTicksAndRejections') && !x.fn.startsWith('(program)')).slice(0, top),
  };
}

export function profileMarkdown(title: string, s: ProfileSummary): string {
  const lines = [`#### ${title}`, '', `Window ${s.windowMs} ms, ${s.sampledMs} ms sampled.`, '', '| Where the time goes | ms | share |', '| --- | ---: | ---: |'];
  for (const c of s.categories.slice(0, 14)) lines.push(`| ${c.category} | ${c.ms} | ${c.share} % |`);
  lines.push('', '| Top self time | ms | share |', '| --- | ---: | ---: |');
  for (const f of s.topSelf) lines.push(`| \`${f.fn}\` | ${f.ms} | ${f.share} % |`);
  lines.push('', '| Top total time (with callees) | ms | share |', '| --- | ---: | ---: |');
  for (const f of s.topTotal) lines.push(`| \`${f.fn}\` | ${f.ms} | ${f.share} % |`);
  return lines.join('\n');
}
