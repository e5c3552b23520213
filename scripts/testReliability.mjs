// Runs the reliability suites (test/reliability/*.test.ts) with node's test runner.
//   node scripts/testReliability.mjs          quick level (part of `npm test` and CI)
//   node scripts/testReliability.mjs --full   full level (`npm run test:reliability`)
// Extra arguments are test files to run instead of all of them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const full = args.includes('--full');
const named = args.filter((a) => a !== '--full');
const suiteDir = path.join(root, 'test', 'reliability');
const files = named.length > 0
  ? named
  : readdirSync(suiteDir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(suiteDir, f));
if (files.length === 0) {
  console.error('no reliability suites found in test/reliability/');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, RP_RELIABILITY: full ? 'full' : 'quick', RP_CHECK_HOLDS: '1' },
});
process.exit(result.status ?? 1);
