import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { describeCause, type Logger, type RecoveryStore } from '../core';
import { cleanupDue } from '../core/recovery/cleanupDue';
import type { SearchWorkerOptions } from '../core/history/searchWorker';
import { createMcpServer } from './mcpServer';

/**
 * Serves `store` over standard input and output until the client goes away (standard input ends or
 * closes) or the process is asked to stop. Standard output carries only the protocol; logs go to
 * standard error through `logger`.
 */
export async function serveStdio(store: RecoveryStore, logger: Logger, searchWorker?: SearchWorkerOptions): Promise<void> {
  const server = createMcpServer(store, logger, { afterPoint: () => void cleanUpIfDue(store, logger), searchWorker });
  const transport = new StdioServerTransport();
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  transport.onerror = (error) => logger.warn(`MCP transport: ${error.message}`);
  transport.onclose = () => finish();
  const stop = () => void server.close().then(finish, finish);
  process.stdin.once('end', stop);
  process.stdin.once('close', stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await server.connect(transport);
  logger.info('MCP server ready on standard input and output.');
  try {
    await finished;
  } finally {
    process.stdin.off('end', stop);
    process.stdin.off('close', stop);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
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
