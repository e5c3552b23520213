/**
 * Runs commands from a small Node process of its own, so that the benchmark's process — which holds
 * our store, as the extension host does — is not forked for them. After a fork, every page the
 * forked process writes is copied on its first write (a page fault each), and our next point pays
 * for those faults; started from here, git and `sync` fork this small process instead. The command's
 * time is measured inside that process (its own start and wait, as `run` measures it here).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const CHILD = `
const { spawnSync } = require('node:child_process');
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  for (let at = buffer.indexOf('\\n'); at >= 0; at = buffer.indexOf('\\n')) {
    const { cmd, args, cwd, env } = JSON.parse(buffer.slice(0, at));
    buffer = buffer.slice(at + 1);
    const started = performance.now();
    const result = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const ms = performance.now() - started;
    process.stdout.write(JSON.stringify({ code: result.status ?? -1, ms, stderr: String(result.stderr ?? '').slice(0, 2000), error: result.error ? String(result.error) : undefined }) + '\\n');
  }
});
`;

export interface ElsewhereResult {
  readonly code: number;
  readonly ms: number;
}

export class RunnerElsewhere {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<(line: string) => void> = [];
  private buffer = '';

  constructor() {
    this.child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let at = this.buffer.indexOf('\n'); at >= 0; at = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 1);
        this.waiting.shift()?.(line);
      }
    });
  }

  run(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ElsewhereResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const answer = JSON.parse(line) as ElsewhereResult & { stderr: string; error?: string };
        if (answer.error || answer.code !== 0) reject(new Error(`${cmd} ${args.join(' ')} failed (${answer.code}): ${answer.error ?? answer.stderr}`));
        else resolve({ code: answer.code, ms: answer.ms });
      });
      this.child.stdin.write(`${JSON.stringify({ cmd, args, cwd: options.cwd, env: options.env ?? process.env })}\n`);
    });
  }

  /** `sync`, as `settleDisk` runs it, from the other process. */
  async settleDisk(): Promise<void> {
    await this.run('sync', []);
  }

  close(): void {
    this.child.stdin.end();
  }
}
