import { randomFillSync } from 'node:crypto';

/**
 * Random hex for names (point ids, temporary files, lock tokens), drawn from a pool the system's
 * CSPRNG fills 256 bytes at a time: a `randomBytes` call per name starts a native job each time, and
 * those calls were 0.4–0.5 ms of a one-file point's 14 ms in a CPU profile on the bench's machine.
 */
const pool = Buffer.alloc(256);
let used = pool.length;

export function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
