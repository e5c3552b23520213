import type { Logger } from '../core';
import { searchWorkerBeside } from './searchCommand';
import type { CommandSpec } from './commandIndex';
import { escapeForTerminal } from './terminalText';

/** Everything the MCP server logs goes to standard error: standard output carries only the protocol. */
const stderrLogger: Logger = {
  debug: () => undefined,
  info: (message) => process.stderr.write(`recovery-points mcp: ${escapeForTerminal(message)}\n`),
  warn: (message) => process.stderr.write(`recovery-points mcp: warning: ${escapeForTerminal(message)}\n`),
  error: (message) => process.stderr.write(`recovery-points mcp: error: ${escapeForTerminal(message)}\n`),
};

/** `recovery-points mcp`: serves the store over stdio until the client disconnects. The server's code is loaded only here, so other commands start as fast as before. */
export const MCP_COMMANDS: Record<string, CommandSpec> = {
  mcp: {
    positionals: [0, 0],
    run: async (store) => {
      const { serveStdio } = await import('../mcp/serveStdio.js');
      await serveStdio(store, stderrLogger, searchWorkerBeside());
    },
  },
};
