// Runs the end-to-end suite (scripts/host/runE2E.mjs) several times in a row and prints the tally: a
// flaky case shows itself here before it fails someone's CI run.
//
//   node scripts/loopE2E.mjs [--runs N] [--bail] [FILTER]
//
// --runs N   how many runs (default 10); --bail stops after the first red run.
// FILTER     only the test files whose name contains it (as runE2E.mjs's RP_E2E_ONLY).
// Builds once first (`npm run build`); code-server must be installed (`npm run host:install`).
// Each run's output goes to test-results/loop/<start>/run-K.log and a failed run's screenshots and
// logs to test-results/loop/<start>/run-K/. One line per run (result, time, the runner's summary),
// then `G/N green`. Exit code 0 when every run was green.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const options = { runs: 10, bail: false, filter: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--bail') options.bail = true;
    else if (!arg.startsWith('--')) options.filter = arg;
    else throw new Error(`unknown option ${arg}`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error('--runs takes a whole number of at least 1');
  return options;
}

/** One run of the suite; resolves with its exit code and the runner's last line (`N passed, N failed…`). */
function runOnce(logFile, resultsDir, filter) {
  return new Promise((resolve) => {
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'host', 'runE2E.mjs'), ...(filter ? [filter] : [])], {
      cwd: ROOT,
      env: { ...process.env, RP_E2E_RESULTS: resultsDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk) => {
      log.write(chunk);
      tail = (tail + chunk.toString()).slice(-2000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => {
      log.end();
      const summary = tail.trimEnd().split('\n').pop() ?? '';
      resolve({ code: code ?? 1, summary });
    });
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(ROOT, 'test-results', 'loop', stamp);
  mkdirSync(dir, { recursive: true });
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  if (build.status !== 0) throw new Error('`npm run build` failed');

  console.log(`[loop] ${options.runs} run(s) of the e2e suite${options.filter ? ` (${options.filter})` : ''}, started ${new Date().toISOString()}; output in ${path.relative(ROOT, dir)}`);
  let green = 0;
  let done = 0;
  for (let run = 1; run <= options.runs; run++) {
    const started = Date.now();
    const { code, summary } = await runOnce(path.join(dir, `run-${run}.log`), path.join(dir, `run-${run}`), options.filter);
    done++;
    if (code === 0) green++;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`[loop] run ${run}/${options.runs}: ${code === 0 ? 'green' : `RED (see ${path.relative(ROOT, path.join(dir, `run-${run}.log`))})`} in ${seconds} s — ${summary} (${new Date().toISOString()})`);
    if (code !== 0 && options.bail) break;
  }
  console.log(`[loop] ended ${new Date().toISOString()}`);
  console.log(`${green}/${done} green${done < options.runs ? ` (stopped after the first red run; ${options.runs} asked)` : ''}`);
  return green === done && done === options.runs ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[loop] ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  },
);
