import { MAX_LABEL_LENGTH, MAX_UNTRACKED_PATHS, SCHEMA_VERSION, type PointIndex, type PointSummary } from '../schemas';

/**
 * Hand-written checks of the points index's shapes (`pointSummarySchema`, `pointIndexSchema`,
 * `pointIndexJournalLineSchema` in schemas.ts), for the common case of a valid document: a listing
 * reads every summary in a fresh process, and zod's pass over 2,000 of them cost more than the rest
 * of the listing. Each check is stricter than or equal to its schema (an unknown key, a number that
 * is not a safe integer, anything unusual is "not sure"), and whatever it does not accept is checked
 * by zod, which words the error or strips the extra keys: a document is accepted or refused exactly
 * as by zod alone. test/core/pointSummaryCheck.test.ts holds the two to each other.
 */

const POINT_ID = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;
const HASH = /^[0-9a-f]{64}$/;
const RULES = /^[0-9a-f]{16}$/;
const COMMIT = /^[0-9a-f]{40,64}$/;
const TRIGGERS = new Set(['manual', 'save', 'external', 'before-restore', 'restore', 'startup', 'agent']);
const SUMMARY_KEYS = new Set(['schemaVersion', 'id', 'createdAt', 'trigger', 'label', 'summary', 'actor', 'root', 'roots', 'parentId', 'changes', 'fileCount', 'totalSize', 'addedBytes', 'rules', 'agent', 'untracked', 'nowTracked', 'leftOut']);
/** Keys every summary has (the others are optional). */
const REQUIRED_SUMMARY_KEYS = SUMMARY_KEYS.size - 5;

/** A name that follows the point id's pattern (`pointIdSchema`). */
export function isPointId(value: unknown): value is string {
  return typeof value === 'string' && POINT_ID.test(value);
}

/** A summary zod would accept as it is (no key to strip). `false`: not sure, ask zod. */
export function isPointSummary(value: unknown): value is PointSummary {
  if (!isRecord(value)) return false;
  let keys = 0;
  for (const key in value) {
    if (!SUMMARY_KEYS.has(key)) return false;
    keys++;
  }
  const v = value as Record<string, unknown>;
  const optional = (v.rules !== undefined ? 1 : 0) + (v.agent !== undefined ? 1 : 0) + (v.untracked !== undefined ? 1 : 0) + (v.nowTracked !== undefined ? 1 : 0) + (v.leftOut !== undefined ? 1 : 0);
  return (
    keys === REQUIRED_SUMMARY_KEYS + optional &&
    v.schemaVersion === SCHEMA_VERSION &&
    isPointId(v.id) &&
    typeof v.createdAt === 'string' &&
    !Number.isNaN(Date.parse(v.createdAt)) &&
    typeof v.trigger === 'string' &&
    TRIGGERS.has(v.trigger) &&
    (v.label === null || (typeof v.label === 'string' && v.label.length <= MAX_LABEL_LENGTH)) &&
    typeof v.summary === 'string' &&
    v.summary.length <= 500 &&
    typeof v.actor === 'string' &&
    typeof v.root === 'string' &&
    HASH.test(v.root) &&
    isRoots(v.roots) &&
    (v.parentId === null || isPointId(v.parentId)) &&
    isChangeCounts(v.changes) &&
    isCount(v.fileCount) &&
    isCount(v.totalSize) &&
    isCount(v.addedBytes) &&
    (v.rules === undefined || (typeof v.rules === 'string' && RULES.test(v.rules))) &&
    (v.agent === undefined || (typeof v.agent === 'string' && v.agent.length >= 1 && v.agent.length <= 100)) &&
    (v.untracked === undefined || isPathList(v.untracked)) &&
    (v.nowTracked === undefined || isPathList(v.nowTracked)) &&
    (v.leftOut === undefined || isPathList(v.leftOut))
  );
}

function isPathList(value: unknown): boolean {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_UNTRACKED_PATHS) return false;
  for (const p of value) if (typeof p !== 'string' || p.length === 0 || p.length > 4096) return false;
  return true;
}

/** A points index document zod would accept as it is. */
export function isPointIndex(value: unknown): value is PointIndex {
  if (!isRecord(value)) return false;
  const v = value as Record<string, unknown>;
  for (const key in v) if (key !== 'schemaVersion' && key !== 'points' && key !== 'generation') return false;
  if (v.schemaVersion !== SCHEMA_VERSION || !Array.isArray(v.points)) return false;
  if (v.generation !== undefined && !isGeneration(v.generation)) return false;
  for (const point of v.points) if (!isPointSummary(point)) return false;
  return true;
}

/** A line of the points index journal zod would accept as it is. */
export function isPointIndexJournalLine(value: unknown): value is { g: string; add: PointSummary } {
  if (!isRecord(value)) return false;
  const v = value as Record<string, unknown>;
  for (const key in v) if (key !== 'g' && key !== 'add') return false;
  return isGeneration(v.g) && isPointSummary(v.add);
}

function isRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function isGeneration(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= 64;
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isChangeCounts(value: unknown): boolean {
  if (!isRecord(value)) return false;
  let keys = 0;
  for (const key in value) {
    if (key !== 'added' && key !== 'modified' && key !== 'deleted' && key !== 'untracked' && key !== 'nowTracked') return false;
    keys++;
  }
  const v = value as Record<string, unknown>;
  const optional = (v.untracked !== undefined ? 1 : 0) + (v.nowTracked !== undefined ? 1 : 0);
  return (
    keys === 3 + optional &&
    isCount(v.added) &&
    isCount(v.modified) &&
    isCount(v.deleted) &&
    (v.untracked === undefined || (isCount(v.untracked) && (v.untracked as number) > 0)) &&
    (v.nowTracked === undefined || (isCount(v.nowTracked) && (v.nowTracked as number) > 0))
  );
}

function isRoots(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const root of value) {
    if (!isRecord(root)) return false;
    let keys = 0;
    for (const key in root) {
      if (key !== 'name' && key !== 'path' && key !== 'realPath' && key !== 'head' && key !== 'outsideRules' && key !== 'id') return false;
      keys++;
    }
    const r = root as Record<string, unknown>;
    if (keys !== 2 + (r.realPath !== undefined ? 1 : 0) + (r.head !== undefined ? 1 : 0) + (r.outsideRules !== undefined ? 1 : 0) + (r.id !== undefined ? 1 : 0)) return false;
    if (r.id !== undefined && !(typeof r.id === 'string' && r.id.length >= 1 && r.id.length <= 100)) return false;
    if (r.outsideRules !== undefined && !(typeof r.outsideRules === 'string' && /^[0-9a-f]{16}$/.test(r.outsideRules))) return false;
    if (typeof r.name !== 'string' || r.name.length === 0 || typeof r.path !== 'string' || r.path.length === 0) return false;
    if (r.realPath !== undefined && (typeof r.realPath !== 'string' || r.realPath.length === 0)) return false;
    if (r.head !== undefined && !isGitHead(r.head)) return false;
  }
  return true;
}

function isGitHead(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const v = value as Record<string, unknown>;
  if (keys[0] === 'branch') return typeof v.branch === 'string' && v.branch.length >= 1 && v.branch.length <= 1000;
  return keys[0] === 'commit' && typeof v.commit === 'string' && COMMIT.test(v.commit);
}
