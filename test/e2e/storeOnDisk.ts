// The extension's store as the e2e tests see it from outside VS Code: found in the server's workspace
// storage, read through the command-line tool (dist/cli.js, which takes the store's lock like a window
// does) and its audit log.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const EXTENSION_ID = 'recovery-points.recovery-points';

/** How much longer than on an idle machine the runner lets waits take (scripts/host/runE2E.mjs, `waitScale`). */
const WAIT_SCALE = (Number(process.env.RP_E2E_WAIT_MS) || 20_000) / 20_000;

/** Polls `check` every 100 ms, at most `timeoutMs` (on an idle machine; for the files on disk, which no selector can wait for). */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  timeoutMs = Math.round(timeoutMs * WAIT_SCALE);
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface PointRow {
  readonly id: string;
  readonly trigger: string;
  readonly label: string | null;
  readonly summary: string;
  readonly parentId: string | null;
  readonly changes: { added: number; modified: number; deleted: number };
}

export interface AuditRow {
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly pointId?: string;
  readonly details?: Record<string, unknown>;
}

export interface VerifyRow {
  readonly ok: boolean;
  readonly brokenObjects: unknown[];
  readonly brokenPoints: Array<{ id: string; problems: string[]; restorable?: boolean }>;
  readonly stateProblem: string | null;
  readonly needsRepair: boolean;
}

function storesIn(workspaceStorage: string): string[] {
  const entries = fs.existsSync(workspaceStorage) ? fs.readdirSync(workspaceStorage) : [];
  return entries.map((entry) => path.join(workspaceStorage, entry, EXTENSION_ID)).filter((dir) => fs.existsSync(path.join(dir, 'state.json')));
}

export class StoreOnDisk {
  private constructor(
    readonly dir: string,
    private readonly workspace: string,
    private readonly cliPath: string,
  ) {}

  /** The store the extension keeps for `workspace` under the server's user-data folder, once it exists; read with the checkout's dist/cli.js. */
  static async find(userDataDir: string, workspace: string, root: string): Promise<StoreOnDisk> {
    const storage = path.join(userDataDir, 'User', 'workspaceStorage');
    let dir: string | undefined;
    await waitUntil('the extension\'s store in the workspace storage', () => (dir = storesIn(storage)[0]) !== undefined);
    return new StoreOnDisk(dir!, workspace, path.join(root, 'dist', 'cli.js'));
  }

  /** Every store (a folder of the extension holding a state file) in the workspace storage this store is in. */
  storesOfWorkspaceStorage(): string[] {
    return storesIn(path.dirname(path.dirname(this.dir)));
  }

  get stateFile(): string {
    return path.join(this.dir, 'state.json');
  }

  get pointsDir(): string {
    return path.join(this.dir, 'points');
  }

  get objectsDir(): string {
    return path.join(this.dir, 'objects');
  }

  get quarantineDir(): string {
    return path.join(this.dir, 'quarantine');
  }

  /** Runs the command-line tool on this store and workspace with --json; resolves with its parsed output and exit code. */
  cli<T>(...args: string[]): Promise<{ code: number; data: T }> {
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [this.cliPath, '--workspace', this.workspace, '--store', this.dir, '--json', ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        try {
          resolve({ code, data: JSON.parse(stdout) as T });
        } catch {
          reject(new Error(`recovery-points ${args.join(' ')} exited ${code}: ${stderr || stdout}`));
        }
      });
    });
  }

  async list(): Promise<PointRow[]> {
    return (await this.cli<PointRow[]>('list')).data;
  }

  async verify(): Promise<VerifyRow> {
    return (await this.cli<VerifyRow>('verify')).data;
  }

  /** Whether the newest point holds exactly the files on disk now. */
  async newestMatchesDisk(): Promise<boolean> {
    const { data } = await this.cli<{ added: string[]; modified: string[]; deleted: string[] }>('diff', 'latest');
    return data.added.length + data.modified.length + data.deleted.length === 0;
  }

  audit(): AuditRow[] {
    const file = path.join(this.dir, 'audit.log.jsonl');
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((line) => {
      try {
        return [JSON.parse(line) as AuditRow];
      } catch {
        return [];
      }
    });
  }

  /** Names of the pack files being written now (`*.partial`): a point's capture is under way. */
  partialPacks(): string[] {
    return fs.existsSync(this.objectsDir) ? fs.readdirSync(this.objectsDir).filter((name) => name.endsWith('.partial')) : [];
  }
}
