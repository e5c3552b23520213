import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describeCause, type Logger, type RecoveryStore } from '../core';
import { cleanupDue } from '../core/recovery/cleanupDue';
import type { SearchWorkerOptions } from '../core/history/searchWorker';
import { AGENT_TOOLS } from '../core/agentTools/toolCatalog';
import { CallOrder } from './callOrder';
import { createMcpServer } from './mcpServer';
import { answeringMalformed } from './stdioMessages';

/**
 * Serves `store` over standard input and output until the client goes away (standard input ends or
 * closes: the requests it sent are answered first) or the process is asked to stop. Standard output
 * carries only the protocol; logs go to standard error through `logger`.
 */
export async function serveStdio(store: RecoveryStore, logger: Logger, searchWorker?: SearchWorkerOptions): Promise<void> {
  const order = new CallOrder((tool) => Object.values(AGENT_TOOLS).some((spec) => spec.mcpName === tool && !spec.readOnly));
  const server = createMcpServer(store, logger, { afterPoint: () => void cleanUpIfDue(store, logger), searchWorker, order });
  // its end comes after the transport has read every line of it
  const input = answeringMalformed(process.stdin, process.stdout);
  const transport = new StdioServerTransport(input, process.stdout);
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  transport.onerror = (error) => logger.warn(`MCP transport: ${error.message}`);
  transport.onclose = () => finish();
  const stop = () => void server.close().then(finish, finish);
  const open = new OpenRequests();
  // a client that sends a request and closes its end (a script's one call) still gets the answer
  const inputEnded = () => void open.allAnswered().then(stop);
  input.once('end', inputEnded);
  input.once('close', inputEnded);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await server.connect(transport);
  open.follow(transport);
  order.follow(transport);
  logger.info('MCP server ready on standard input and output.');
  try {
    await finished;
  } finally {
    input.off('end', inputEnded);
    input.off('close', inputEnded);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/**
 * The requests the server has read and not yet answered, by id. A request the client cancels
 * (`notifications/cancelled`) counts as answered, and its answer, when its work ends, is not sent, as
 * MCP asks.
 */
class OpenRequests {
  private readonly open = new Map<string | number, number>();
  private readonly cancelled = new Set<string | number>();
  private waiting: Array<() => void> = [];

  /** Counts what `transport` (connected: its `onmessage` and `send` are the server's) reads and answers. */
  follow(transport: Transport): void {
    const receive = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if ('method' in message && 'id' in message) this.open.set(message.id, (this.open.get(message.id) ?? 0) + 1);
      receive?.(message, extra);
      if ('method' in message && message.method === 'notifications/cancelled' && !('id' in message)) {
        const id = (message.params as { requestId?: unknown } | undefined)?.requestId;
        if ((typeof id === 'string' || typeof id === 'number') && this.open.has(id)) {
          this.cancelled.add(id);
          this.answered(id);
        }
      }
    };
    const send = transport.send.bind(transport);
    transport.send = async (message, options) => {
      const answering = !('method' in message) && 'id' in message && message.id !== undefined ? message.id : undefined;
      if (answering !== undefined && this.cancelled.delete(answering)) return;
      try {
        await send(message, options);
      } finally {
        if (answering !== undefined) this.answered(answering);
      }
    };
  }

  allAnswered(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private answered(id: string | number): void {
    const left = (this.open.get(id) ?? 1) - 1;
    if (left > 0) this.open.set(id, left);
    else this.open.delete(id);
    if (this.open.size === 0) for (const resolve of this.waiting.splice(0)) resolve();
  }
}

let cleaning = false;

/**
 * The server may be the only writer of this store: when a clean-up is due, it runs in this process, in
 * the background (it holds the store's lock only in short slices; the server answers meanwhile).
 */
async function cleanUpIfDue(store: RecoveryStore, logger: Logger): Promise<void> {
  if (cleaning || !(await cleanupDue(store.persistence.layout.root))) return;
  cleaning = true;
  try {
    const report = await store.recovery.cleanupRecoveryPoints();
    logger.info(`Clean-up removed ${report.removedPoints} points and ${report.removedObjects} objects.`);
  } catch (error) {
    logger.warn(`The clean-up failed: ${describeCause(error)}`);
  } finally {
    cleaning = false;
  }
}
