import * as fs from 'node:fs';

/**
 * The few file-system calls a capture makes, on Node's callback API: for tens of thousands of small
 * calls it costs about half of `fs/promises` (no FileHandle objects, fewer promises per call).
 */

export function lstat(file: string): Promise<fs.Stats> {
  return new Promise((resolve, reject) => fs.lstat(file, (error, stats) => (error ? reject(error) : resolve(stats))));
}

export function stat(file: string): Promise<fs.Stats> {
  return new Promise((resolve, reject) => fs.stat(file, (error, stats) => (error ? reject(error) : resolve(stats))));
}

export function readdir(dir: string): Promise<fs.Dirent[]> {
  return new Promise((resolve, reject) => fs.readdir(dir, { withFileTypes: true }, (error, entries) => (error ? reject(error) : resolve(entries))));
}

export function readlink(file: string): Promise<string> {
  return new Promise((resolve, reject) => fs.readlink(file, (error, target) => (error ? reject(error) : resolve(target))));
}

function open(file: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
}

function fstat(fd: number): Promise<fs.Stats> {
  return new Promise((resolve, reject) => fs.fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats))));
}

function read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))));
}

function close(fd: number): Promise<void> {
  return new Promise((resolve) => fs.close(fd, () => resolve()));
}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

export type WholeFile =
  | { readonly kind: 'read'; readonly content: Buffer; readonly stat: fs.Stats; readonly readAt: number }
  | { readonly kind: 'not-a-file' }
  | { readonly kind: 'too-large'; readonly size: number };

/**
 * Reads a whole regular file once. The file is opened without following a link and without blocking
 * on a fifo that took its place; `stat` is the open file's, `readAt` the time just before reading.
 * If the file grows while it is read, only the size it had when opened is read. `reserve` is called
 * with that size before the buffer is allocated (to wait for room in a memory budget).
 */
export async function readWholeFile(file: string, maxSize: number, reserve?: (size: number) => Promise<void>): Promise<WholeFile> {
  const fd = await open(file, fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const stats = await fstat(fd);
    if (!stats.isFile()) return { kind: 'not-a-file' };
    if (stats.size > maxSize) return { kind: 'too-large', size: stats.size };
    await reserve?.(stats.size);
    const readAt = Date.now();
    const buffer = Buffer.allocUnsafe(stats.size);
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = await read(fd, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { kind: 'read', content: filled === buffer.length ? buffer : buffer.subarray(0, filled), stat: stats, readAt };
  } finally {
    await close(fd);
  }
}
