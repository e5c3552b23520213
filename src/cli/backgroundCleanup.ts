import { cleanupDue } from '../core/recovery/cleanupDue';
import { startToolDetached } from './detachedTool';

/**
 * After a point the tool or an agent's hook made: when the store is due a clean-up (`cleanupDue`),
 * starts `recovery-points cleanup --if-due` detached, so the command or the agent does not wait for
 * it. The clean-up holds the store's lock only in short slices; a second one started meanwhile finds
 * the first running and ends.
 */
export async function startCleanupIfDue(storeDir: string, workspaces: readonly string[]): Promise<boolean> {
  if (!process.argv[1] || !(await cleanupDue(storeDir))) return false;
  // false: the next point asks again
  return startToolDetached(['cleanup', '--if-due', '--store', storeDir, ...workspaces.flatMap((w) => ['--workspace', w])]);
}
