// A failing file-system layer for the disk-full suite. Load it first in a child process:
//   node --import ./test/reliability/helpers/failingFs.mjs --import tsx script.ts
// It wraps every call that writes (open for writing, write, writev, writeFile, appendFile, fsync,
// fdatasync, rename, mkdir, copyFile, symlink; callback, promise, sync and FileHandle forms) so the
// k-th such call, or the first write past a byte budget, fails with ENOSPC or EIO. Reads never fail.
//
// Environment (read once at load): RP_FAIL_AT=k (1-based call to fail), RP_FAIL_AFTER_BYTES=n (writes
// past n bytes fail, the one crossing it after writing what fits), RP_FAIL_CODE=ENOSPC|EIO,
// RP_FAIL_STICKY=1 (once failed, every later call fails too: a full disk stays full),
// RP_FAIL_UNDER=dir (only calls on paths below dir, and on files opened there, count: that is the "disk").
// The same switch is at `globalThis.__rpFailingFs` (arm/disarm/calls) for sweeps within one process.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

const DEFAULTS = { failAt: 0, afterBytes: -1, code: 'ENOSPC', sticky: false, under: '' };
const config = { ...DEFAULTS };
/** Descriptors of files opened below `config.under`. */
const fds = new Set();
let calls = [];
let bytes = 0;
let tripped = false;

const WRITE_FLAGS = /[wa+]/;
const O_WRITE = fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_APPEND | fs.constants.O_TRUNC;
function opensForWriting(flags) {
  if (flags === undefined || flags === null) return false;
  return typeof flags === 'number' ? (flags & O_WRITE) !== 0 : WRITE_FLAGS.test(String(flags));
}

function injected(syscall, target) {
  const errno = config.code === 'EIO' ? -5 : -28;
  const text = config.code === 'EIO' ? 'i/o error' : 'no space left on device';
  const error = new Error(`${config.code}: ${text} (injected), ${syscall}${target ? ` '${target}'` : ''}`);
  return Object.assign(error, { code: config.code, errno, syscall, path: target });
}

function armed() {
  return config.failAt > 0 || config.afterBytes >= 0;
}

function onDisk(target) {
  if (!config.under) return true;
  if (typeof target === 'number') return fds.has(target);
  if (typeof target !== 'string') return false;
  const full = throughOpenFolder(target) ?? path.resolve(target);
  return full === config.under || full.startsWith(config.under + path.sep);
}

/** A path through an open folder (`/proc/self/fd/N/name`, as a restore writes): the folder's real path and the rest. */
function throughOpenFolder(target) {
  const match = /^\/proc\/self\/fd\/(\d+)(\/.*)?$/.exec(target);
  if (!match) return undefined;
  try {
    return fs.readlinkSync(`/proc/self/fd/${match[1]}`) + (match[2] ?? '');
  } catch {
    return undefined;
  }
}

/** Counts one call; returns the error to fail it with, or undefined. */
function check(syscall, target, fd) {
  if (!armed() || !onDisk(fd ?? target)) return undefined;
  calls.push(`${syscall} ${target ?? ''}`);
  if (tripped && config.sticky) return injected(syscall, target);
  if (config.failAt > 0 && calls.length === config.failAt) {
    tripped = true;
    return injected(syscall, target);
  }
  return undefined;
}

/** How many of `size` bytes may still be written; -1 for all of them. */
function budget(size, target) {
  if (!armed() || config.afterBytes < 0 || !onDisk(target)) return -1;
  if (tripped && config.sticky) return 0;
  const left = config.afterBytes - bytes;
  if (left >= size) {
    bytes += size;
    return -1;
  }
  tripped = true;
  bytes = config.afterBytes;
  return Math.max(0, left);
}

function sizeOf(data) {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (Array.isArray(data)) return data.reduce((sum, b) => sum + b.byteLength, 0);
  return data?.byteLength ?? 0;
}

const label = (value) => (typeof value === 'number' ? `fd ${value}` : value instanceof URL ? value.pathname : typeof value === 'string' ? value : undefined);

// ── callback API ──────────────────────────────────────────────────────────

function wrapCallback(name, opts = {}) {
  const original = fs[name];
  if (typeof original !== 'function') return;
  fs[name] = function (...args) {
    const callback = args[args.length - 1];
    if (typeof callback !== 'function') return original.apply(this, args);
    const counted = !opts.when || opts.when(args);
    const error = !counted ? undefined : (check(name, label(args[0]), typeof args[0] === 'number' ? args[0] : undefined) ?? (opts.data ? budgetError(name, args[0], opts.data(args)) : undefined));
    if (error) {
      process.nextTick(callback, error);
      return undefined;
    }
    if (name === 'open' && onDisk(label(args[0]))) {
      args[args.length - 1] = (err, fd) => {
        if (!err) fds.add(fd);
        callback(err, fd);
      };
    }
    return original.apply(this, args);
  };
}

function budgetError(name, target, data) {
  const allowed = budget(sizeOf(data), target);
  return allowed === -1 ? undefined : injected(name, label(target));
}

wrapCallback('open', { when: (args) => opensForWriting(typeof args[1] === 'function' ? undefined : args[1]) });
wrapCallback('write', { data: (args) => args[1] });
wrapCallback('writev', { data: (args) => args[1] });
wrapCallback('writeFile', { data: (args) => args[1] });
wrapCallback('appendFile', { data: (args) => args[1] });
for (const name of ['fsync', 'fdatasync', 'rename', 'mkdir', 'copyFile', 'symlink']) wrapCallback(name);
const originalClose = fs.close;
fs.close = function (fd, ...rest) {
  fds.delete(fd);
  return originalClose.call(this, fd, ...rest);
};

// ── sync API ──────────────────────────────────────────────────────────────

function wrapSync(name, opts = {}) {
  const original = fs[name];
  if (typeof original !== 'function') return;
  fs[name] = function (...args) {
    const counted = !opts.when || opts.when(args);
    const error = !counted ? undefined : (check(name, label(args[0]), typeof args[0] === 'number' ? args[0] : undefined) ?? (opts.data ? budgetError(name, args[0], opts.data(args)) : undefined));
    if (error) throw error;
    const result = original.apply(this, args);
    if (name === 'openSync' && onDisk(label(args[0]))) fds.add(result);
    return result;
  };
}
wrapSync('openSync', { when: (args) => opensForWriting(args[1]) });
wrapSync('writeSync', { data: (args) => args[1] });
wrapSync('writeFileSync', { data: (args) => args[1] });
wrapSync('appendFileSync', { data: (args) => args[1] });
for (const name of ['fsyncSync', 'renameSync', 'mkdirSync', 'copyFileSync', 'symlinkSync']) wrapSync(name);

// ── promise API and FileHandle ────────────────────────────────────────────

function wrapPromise(target, name, opts = {}) {
  const original = target[name];
  if (typeof original !== 'function') return;
  target[name] = async function (...args) {
    if (opts.when && !opts.when(args)) {
      const result = await original.apply(this, args);
      if (opts.opens && onDisk(label(args[0]))) fds.add(result.fd);
      return result;
    }
    const where = opts.self ? `fd ${this.fd}` : label(args[0]);
    const error = check(opts.self ? `handle.${name}` : name, where, opts.self ? this.fd : undefined);
    if (error) throw error;
    if (opts.data) {
      const data = opts.data(args);
      const allowed = budget(sizeOf(data), opts.self ? this.fd : label(args[0]));
      if (allowed !== -1) {
        // a short write: what fits reaches the file, then the disk is full
        if (allowed > 0 && opts.partial) await opts.partial(this, args, allowed).catch(() => undefined);
        throw injected(opts.self ? `handle.${name}` : name, where);
      }
    }
    const result = await original.apply(this, args);
    if (opts.opens && onDisk(label(args[0]))) fds.add(result.fd);
    return result;
  };
}

const promises = fs.promises;
wrapPromise(promises, 'open', { when: (args) => opensForWriting(args[1]), opens: true });
wrapPromise(promises, 'writeFile', { data: (args) => args[1] });
wrapPromise(promises, 'appendFile', { data: (args) => args[1] });
for (const name of ['rename', 'mkdir', 'copyFile', 'symlink']) wrapPromise(promises, name);

const probe = await promises.open(process.execPath, 'r');
const FileHandle = Object.getPrototypeOf(probe);
await probe.close();
const original = { write: FileHandle.write, writev: FileHandle.writev };
wrapPromise(FileHandle, 'write', {
  self: true,
  data: (args) => (typeof args[0] === 'string' ? args[0] : args[0].subarray(args[1] ?? 0, (args[1] ?? 0) + (args[2] ?? args[0].byteLength - (args[1] ?? 0)))),
});
wrapPromise(FileHandle, 'writev', {
  self: true,
  data: (args) => args[0],
  partial: (handle, args, allowed) => original.write.call(handle, Buffer.concat(args[0]).subarray(0, allowed), 0, allowed, args[1] ?? null),
});
wrapPromise(FileHandle, 'writeFile', { self: true, data: (args) => args[0] });
wrapPromise(FileHandle, 'appendFile', { self: true, data: (args) => args[0] });
wrapPromise(FileHandle, 'sync', { self: true });
wrapPromise(FileHandle, 'datasync', { self: true });
const originalHandleClose = FileHandle.close;
FileHandle.close = function (...args) {
  fds.delete(this.fd);
  return originalHandleClose.apply(this, args);
};
syncBuiltinESMExports();

const control = {
  /** Starts counting (and failing) calls from now on. */
  arm(options) {
    Object.assign(config, DEFAULTS, options);
    config.under = config.under ? path.resolve(config.under) : '';
    calls = [];
    bytes = 0;
    tripped = false;
  },
  disarm() {
    config.failAt = 0;
    config.afterBytes = -1;
  },
  /** The calls counted since `arm`, as `syscall path`. */
  get calls() {
    return [...calls];
  },
  /** Bytes written to the disk since `arm` (counted when a budget is set). */
  get bytes() {
    return bytes;
  },
  /** Whether the failure happened. */
  get tripped() {
    return tripped;
  },
};
globalThis.__rpFailingFs = control;

if (process.env.RP_FAIL_AT || process.env.RP_FAIL_AFTER_BYTES) {
  control.arm({
    failAt: Number(process.env.RP_FAIL_AT ?? 0),
    afterBytes: process.env.RP_FAIL_AFTER_BYTES ? Number(process.env.RP_FAIL_AFTER_BYTES) : -1,
    code: process.env.RP_FAIL_CODE ?? 'ENOSPC',
    sticky: process.env.RP_FAIL_STICKY === '1',
    under: process.env.RP_FAIL_UNDER ?? '',
  });
}
