import * as fs from 'node:fs';
import { REPACK_PACK_LIMIT } from '../objects/objectStore';
import { PACK_EXTENSION } from '../objects/packFile';
import { StoreLayout } from '../storeLayout';
import { isStoreLockHeld } from '../lock/storeLock';

/**
 * Every point writes a pack of its own, and only a clean-up merges packs and applies the retention
 * limits. The extension cleans up after every 25 of its points; a store that only the command-line
 * tool, an agent's hooks or the MCP server write asks for a clean-up once it holds more packs than
 * this (a clean-up leaves a few packs of growing sizes, never this many), so neither its points nor
 * what every cold start reads (each pack's index) grow without end.
 */
export const CLEANUP_DUE_PACKS = 2 * REPACK_PACK_LIMIT;

/** Whether the store at `storeDir` is due a clean-up that nobody is running: one folder listing, one lock check. */
export async function cleanupDue(storeDir: string): Promise<boolean> {
  let packs: number;
  try {
    packs = fs.readdirSync(new StoreLayout(storeDir).objectsDir).filter((name) => name.endsWith(PACK_EXTENSION)).length;
  } catch {
    return false; // no objects yet, or a store that cannot be read: the command that follows says why
  }
  if (packs <= CLEANUP_DUE_PACKS) return false;
  return !(await isStoreLockHeld(storeDir, undefined, ['collection.lock']).catch(() => true));
}
