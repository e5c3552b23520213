import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { escapeForTerminal } from '../../cli/terminalText';
import { answerHook } from '../../cli/hookCommands';
import { parseArgs } from '../../cli/args';
import { runCommand } from '../../cli/runCommand';
import { helperFile, privateHelperDir, readHelperAddress, removeHelperAddress, writeHelperAddress, type HelperAddress } from './helperFile';
import { KeptStores } from './keptStores';

/** `RECOVERY_POINTS_HELPER_IDLE_MS`: how long the helper waits for the next hook before it ends. */
export const HELPER_IDLE_ENV = 'RECOVERY_POINTS_HELPER_IDLE_MS';
const DEFAULT_IDLE_MS = 10 * 60 * 1000;
/** A client that has not sent its whole request in this long is hung up on. */
const REQUEST_MS = 10_000;
const MAX_PAYLOAD = 64 * 1024 * 1024;

export interface HelperOptions {
  /** The `cli.js` this helper runs (clients of another install do not use it). */
  readonly cli: string;
  /** The bundle that `cli.js` loads: when it changes on disk (a rebuild, an update), the helper ends. */
  readonly bundle: string;
  readonly idleMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * `recovery-points hook-helper`: the resident helper agents' hooks go through (#14 target 2). A hook's
 * command is `bash hook-client.sh NODE CLI hook …`: the script hands its payload to this process over
 * a loopback connection and prints the answer, so a hook costs a bash start and the point itself, not
 * a Node start and a store opened cold. `dist/recovery-points` hands it the tool's quick commands the
 * same way (`SERVED_COMMANDS`). Started by the first hook or command that found none (in the
 * background), it ends after `idleMs` without one, when its bundle changes, or on SIGTERM. Resolves
 * when it ends; at once when a helper of the same install already answers.
 */
export async function serveHookHelper(options: HelperOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const file = helperFile(privateHelperDir());
  const existing = readHelperAddress(file);
  if (existing && existing.cli === options.cli && (await answersAt(existing))) {
    log(`a helper (pid ${existing.pid}) already serves ${options.cli}`);
    return;
  }
  const bundleStamp = stampOf(options.bundle);
  const stores = new KeptStores();
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve());
  });
  const address: HelperAddress = {
    port: (server.address() as net.AddressInfo).port,
    clientSecret: randomBytes(24).toString('hex'),
    helperSecret: randomBytes(24).toString('hex'),
    pid: process.pid,
    cli: options.cli,
  };
  writeHelperAddress(address, file);
  log(`serving hooks and commands for ${options.cli} on 127.0.0.1:${address.port}`);

  let idle: NodeJS.Timeout | undefined;
  let ending: Promise<void> | undefined;
  const end = (why: string): Promise<void> => {
    ending ??= (async () => {
      log(`ending: ${why}`);
      clearTimeout(idle);
      removeHelperAddress(address, file);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stores.closeAll();
    })();
    return ending;
  };
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const rest = () => {
    clearTimeout(idle);
    idle = setTimeout(() => void end(`no hook or command for ${Math.round(idleMs / 1000)} s`), idleMs);
  };
  rest();
  const onSignal = () => void end('asked to stop');
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  let busy = 0;
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    busy++;
    clearTimeout(idle);
    serveClient(socket, address, {
      stale: () => {
        if (stampOf(options.bundle) === bundleStamp) return false;
        void end('its bundle changed on disk');
        return true;
      },
      stop: () => void end('asked to stop'),
      hook: (request) => answerHook(parseArgs(request.argv), { cwd: request.cwd, budgetEnv: request.budgetEnv, readInput: () => Promise.resolve(request.payload), stores }),
      command: (request) => {
        const answer: CommandAnswer = { code: 0, stdout: [], stderr: '' };
        const io = { stdout: (data: string | Uint8Array) => void answer.stdout.push(Buffer.from(data)), stderr: (text: string) => void (answer.stderr += text), stderrIsTTY: request.tty, stores, resident: true };
        return runCommand(parseArgs(request.argv, request.cwd), io).then((code) => ({ ...answer, code }));
      },
      log,
    }).finally(() => {
      if (--busy === 0 && !ending) rest();
    });
  });
  await new Promise<void>((resolve) => server.once('close', resolve));
  await ending;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
}

interface HookRequest {
  readonly cwd: string;
  readonly budgetEnv: string | undefined;
  readonly argv: string[];
  readonly payload: string;
}

interface CommandRequest {
  readonly cwd: string;
  readonly tty: boolean;
  readonly argv: string[];
}

interface CommandAnswer {
  code: number;
  stdout: Buffer[];
  stderr: string;
}

/**
 * The commands the helper runs for its client (`dist/recovery-points` on Linux and macOS, through
 * hook-client.sh): those a script or an agent calls often and that print text. Any other runs in Node.
 */
export const SERVED_COMMANDS: ReadonlySet<string> = new Set(['snapshot', 'list', 'show', 'diff', 'log', 'stats']);

/**
 * What a command reads from its environment to find stores (storeLocator, the git configuration): a
 * client whose values differ from the helper's has its command run by Node. The client sends them in
 * this order.
 */
export const SERVED_ENV = ['HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'RECOVERY_POINTS_USER_DATA_DIRS'] as const;

/**
 * A command's standard output up to this size, without NUL, is sent counted (the client reads it in one
 * `read -N`); past it, as bytes after the exit code, which the client copies with `cat` (a process
 * start, ~6 ms on a small VM: bash's read of 256 KiB costs as much).
 */
const COUNTED_UP_TO = 128 * 1024;

interface Handlers {
  /** True when this helper must not serve (its bundle changed): it is ending. */
  stale(): boolean;
  stop(): void;
  hook(request: HookRequest): Promise<{ stdout: string; stderr: string }>;
  command(request: CommandRequest): Promise<CommandAnswer>;
  log(line: string): void;
}

/** One client: its secret, ours, its request, the answer; anything unexpected hangs up without a word. */
async function serveClient(socket: net.Socket, address: HelperAddress, handlers: Handlers): Promise<void> {
  const reader = new LineReader(socket);
  const timer = setTimeout(() => socket.destroy(), REQUEST_MS);
  try {
    if (!sameSecret(await reader.line(), address.clientSecret)) return void socket.destroy();
    if (handlers.stale()) return void socket.end('stale\n');
    socket.write(`${address.helperSecret}\n`);
    reader.acknowledging = true;
    const verb = await reader.line();
    if (verb === 'stop') {
      socket.end('x 0\n');
      return handlers.stop();
    }
    if (verb === 'cli') return await serveCommand(socket, reader, timer, handlers);
    if (verb !== 'hook') return void socket.end('f\n');
    const cwd = await reader.line();
    const budget = await reader.line();
    const argc = Number(await reader.line());
    if (!Number.isInteger(argc) || argc < 1 || argc > 64) return void socket.destroy();
    const argv: string[] = [];
    for (let i = 0; i < argc; i++) argv.push(await reader.line());
    const size = Number(await reader.line());
    if (!Number.isInteger(size) || size < 0 || size > MAX_PAYLOAD) return void socket.destroy();
    const payload = (await reader.bytes(size)).toString('utf8');
    reader.acknowledging = false;
    clearTimeout(timer);
    // what Node's own hook would not run the same way: let it
    if (argv[0] !== 'hook' || !path.isAbsolute(cwd) || argv.includes('--help')) return void socket.end('f\n');
    let answer: { stdout: string; stderr: string };
    try {
      answer = await handlers.hook({ cwd, budgetEnv: budget === '' ? undefined : budget, argv, payload });
    } catch (error) {
      answer = { stdout: '', stderr: `recovery-points hook: ${escapeForTerminal((error instanceof Error ? error.message : String(error)).replace(/\.$/, ''))}; no point was made, the agent goes on.\n` };
    }
    socket.end(Buffer.concat([framed('o', answer.stdout), framed('e', answer.stderr), Buffer.from('x 0\n')]));
  } catch (error) {
    // a client that hangs up after the secrets is one asking whether a helper answers (`status`, a helper starting)
    if (!(error instanceof HungUp)) handlers.log(`a client's request could not be read: ${error instanceof Error ? error.message : String(error)}`);
    socket.destroy();
  } finally {
    reader.acknowledging = false;
    clearTimeout(timer);
  }
}

/**
 * A command for `recovery-points`' client: its folder, whether its standard error is a terminal, the
 * values of `SERVED_ENV` (each `1VALUE`, or `0` when not set), its arguments; the answer is its
 * standard error (`framed`), then its exit code and standard output: `x CODE` after the framed output,
 * or `d CODE` followed by the bytes.
 */
async function serveCommand(socket: net.Socket, reader: LineReader, timer: NodeJS.Timeout, handlers: Handlers): Promise<void> {
  const cwd = await reader.line();
  const tty = (await reader.line()) === '1';
  let sameEnv = true;
  for (const name of SERVED_ENV) {
    const value = process.env[name];
    if ((await reader.line()) !== (value === undefined ? '0' : `1${value}`)) sameEnv = false;
  }
  const argc = Number(await reader.line());
  if (!Number.isInteger(argc) || argc < 1 || argc > 4096) return void socket.destroy();
  const argv: string[] = [];
  for (let i = 0; i < argc; i++) argv.push(await reader.line());
  reader.acknowledging = false;
  clearTimeout(timer);
  if (!sameEnv || !SERVED_COMMANDS.has(argv[0]!) || !path.isAbsolute(cwd) || argv.some((arg) => arg === '--help' || arg === '-h' || arg === '--binary')) return void socket.end('f\n');
  try {
    parseArgs(argv, cwd);
  } catch {
    return void socket.end('f\n');
  }
  let answer: CommandAnswer;
  try {
    answer = await handlers.command({ cwd, tty, argv });
  } catch (error) {
    answer = { code: 1, stdout: [], stderr: `recovery-points: Unexpected error: ${escapeForTerminal(error instanceof Error ? error.message : String(error))}\n` };
  }
  const stdout = Buffer.concat(answer.stdout);
  const head = framed('e', answer.stderr);
  if (stdout.length <= COUNTED_UP_TO && !stdout.includes(0)) return void socket.end(Buffer.concat([head, framed('o', stdout), Buffer.from(`x ${answer.code}\n`)]));
  socket.end(Buffer.concat([head, Buffer.from(`d ${answer.code}\n`), stdout]));
}

/**
 * What the client prints to standard output (`o`) or error (`e`): `KIND COUNT` and a line break, then
 * COUNT bytes, without NUL (a bash variable cannot hold one); nothing for nothing.
 */
function framed(kind: 'o' | 'e', text: string | Buffer): Buffer {
  let bytes = typeof text === 'string' ? Buffer.from(text) : text;
  if (bytes.includes(0)) bytes = Buffer.from(bytes.filter((byte) => byte !== 0));
  if (bytes.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from(`${kind} ${bytes.length}\n`), bytes]);
}

function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a helper answers at `address` (ours: it knows both secrets). */
export function answersAt(address: HelperAddress): Promise<boolean> {
  return talkTo(address);
}

/** Asks the helper at `address` to end; false when none answers there. */
export function stopHookHelper(address: HelperAddress): Promise<boolean> {
  return talkTo(address, 'stop');
}

/** The client's side of the exchange of secrets, then `verb` (answered by `x 0`), over a loopback connection. */
function talkTo(address: HelperAddress, verb?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: address.port });
    const done = (yes: boolean) => {
      socket.destroy();
      resolve(yes);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    const reader = new LineReader(socket);
    socket.write(`${address.clientSecret}\n`);
    (async () => {
      if ((await reader.line()) !== address.helperSecret) return false;
      if (!verb) return true;
      socket.write(`${verb}\n`);
      let answer = await reader.line();
      while (answer === '') answer = await reader.line();
      return answer === 'x 0';
    })().then(done, () => done(false));
  });
}

function stampOf(file: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat ? `${stat.size}:${stat.mtimeMs}:${stat.ino}` : 'gone';
}

class HungUp extends Error {}

/** Reads a socket line by line, then a counted number of bytes. */
class LineReader {
  /**
   * While the client's request comes in: each piece of it is answered with an empty line, which the
   * client skips. The answer carries the acknowledgement of the piece at once; without it, bash's
   * `printf`, which writes a request of more than 4 KiB in pieces, would wait for this side's delayed
   * acknowledgement (~40 ms) before each piece after the first (Nagle's algorithm on the client's socket).
   */
  acknowledging = false;
  /** What came in and was not read yet, in the pieces it came in: joined only when read (a payload of many MB is one copy, not one per piece). */
  private chunks: Buffer[] = [];
  private total = 0;
  private waiting: (() => void) | undefined;
  private ended = false;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.total += chunk.length;
      if (this.acknowledging) socket.write('\n');
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  async line(): Promise<string> {
    for (;;) {
      const at = this.joined().indexOf(10);
      if (at !== -1) return this.take(at + 1).subarray(0, at).toString('utf8');
      if (this.total > 64 * 1024) throw new Error('a line of more than 64 KiB');
      await this.more();
    }
  }

  async bytes(count: number): Promise<Buffer> {
    while (this.total < count) await this.more();
    return this.take(count);
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.total)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private take(count: number): Buffer {
    const all = this.joined();
    const rest = all.subarray(count);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.total = rest.length;
    return all.subarray(0, count);
  }

  private more(): Promise<void> {
    if (this.ended) return Promise.reject(new HungUp('the other side hung up'));
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}
