import * as fsSync from 'node:fs';
import * as path from 'node:path';
import { errorCode, ioError } from '../errors';
import { PACK_EXTENSION } from '../objects/packFile';

/**
 * A point's pack that holds the point's manifest (as a blob) and is named for it:
 * `point-<point id>-<manifest hash>.pack`. While a pack is named so, it *claims* the point: its
 * manifest file may not be durable yet (it was written without fsync), and the pack, which was, is
 * the point's record. A pack loses its claim by a rename to an ordinary name (`settledPackName`),
 * once the manifest file is durable on its own or the point is deleted. Older versions read such a
 * pack as any other: its manifest is an object no point references.
 */
export interface PackClaim {
  readonly pointId: string;
  /** The hash of the manifest blob in the pack. */
  readonly manifest: string;
  /** The pack's file name. */
  readonly pack: string;
}

const CLAIM = /^point-(\d{8}T\d{9}Z-[0-9a-f]{6})-([0-9a-f]{64})\.pack$/;

export function claimingPackName(pointId: string, manifestHash: string): string {
  return `point-${pointId}-${manifestHash}${PACK_EXTENSION}`;
}

export function parseClaim(name: string): PackClaim | undefined {
  const match = CLAIM.exec(name);
  return match ? { pointId: match[1]!, manifest: match[2]!, pack: name } : undefined;
}

/** The ordinary name a pack takes when it gives up its claim: the same one every time, so a rename done twice agrees. */
export function settledPackName(claim: PackClaim): string {
  return `${claim.pointId}-${claim.manifest.slice(0, 8)}${PACK_EXTENSION}`;
}

/** The names in the objects folder (packs, claiming or not, and temporary files). */
export function listObjectsFolder(objectsDir: string): string[] {
  try {
    return fsSync.readdirSync(objectsDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw ioError(`list the objects in ${objectsDir}`, error);
  }
}

/** The packs in `objectsDir` that claim a point, by point id (one folder listing). */
export function readClaims(objectsDir: string): Map<string, PackClaim> {
  return claimsAmong(listObjectsFolder(objectsDir));
}

/** The packs among the objects folder's `names` that claim a point, by point id. */
export function claimsAmong(names: readonly string[]): Map<string, PackClaim> {
  const claims = new Map<string, PackClaim>();
  for (const name of names) {
    if (!name.startsWith('point-')) continue;
    const claim = parseClaim(name);
    if (claim) claims.set(claim.pointId, claim);
  }
  return claims;
}

/** Renames claiming packs to their ordinary names (one already renamed is passed over). Returns how many were renamed. */
export function dropClaims(objectsDir: string, claims: Iterable<PackClaim>): number {
  let renamed = 0;
  for (const claim of claims) {
    try {
      fsSync.renameSync(path.join(objectsDir, claim.pack), path.join(objectsDir, settledPackName(claim)));
      renamed++;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw ioError(`rename the pack ${claim.pack}`, error);
    }
  }
  return renamed;
}
