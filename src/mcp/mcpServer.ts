import * as path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describeCause, StateError, type Logger, type RecoveryStore } from '../core';
import { agentChanges, agentPoint, createdPointSentence, describeAgentChanges, agentPreview, agentRestoreReport, describePreview, describeRestore, findPoint, agentRestorePaths, listAgentPoints } from '../core/agentTools/agentQueries';
import { searchHistoryInWorker, type SearchWorkerOptions } from '../core/history/searchWorker';
import { agentFileHistory, agentReadFileVersion, agentSearchHistory, describeFileHistory, describeFileVersion, describeSearch } from '../core/agentTools/historyQueries';
import { AGENT_TOOLS, toolDescription, type AgentToolSpec } from '../core/agentTools/toolCatalog';
import { describeInputProblem } from '../core/agentTools/toolInputs';
import { plural } from '../core/format';
import { hooksRemovedByRestore, hooksRemovedNote, hooksTouchedByPlan, hooksTouchedNote, projectHooks } from '../hooks/hookInstaller';
import type { CallOrder } from './callOrder';
import { version } from '../../package.json';

/**
 * The Model Context Protocol server of one workspace's store: the tools of `AGENT_TOOLS`, each a thin
 * call into the core. A tool's failure is returned as a tool error (`isError`) with one sentence;
 * the server keeps serving.
 */
/** `searchWorker`: where search_history runs (a worker thread, which a time limit can stop in any match); in process without it. */
/** `order`: the order of the calls as read (`CallOrder.follow` on the transport), which writing calls keep. */
export function createMcpServer(store: RecoveryStore, logger: Logger, options: { afterPoint?: () => void; searchWorker?: SearchWorkerOptions; order?: CallOrder } = {}): McpServer {
  const afterPoint = options.afterPoint ?? (() => undefined);
  const server = new McpServer(
    { name: 'recovery-points', title: 'Recovery Points', version },
    {
      instructions:
        'Recovery points are checkpoints of the whole workspace. Create a labelled point before a risky change (create_point); list points and their changes to find the state you want; file_history, read_file_version and search_history find earlier versions of a file or of some code; preview_restore shows what a restore would touch; restore_point restores a point (whole, or some files) after making a safety point; undo_restore puts the files back as they were before the last restore.',
    },
  );
  const undoName = AGENT_TOOLS.undoRestore.mcpName;
  const register = <S extends AgentToolSpec>(spec: S, handler: Handler<S>) => registerTool(server, logger, options.order, spec, handler);
  validateArgumentsHere(server);

  register(AGENT_TOOLS.listPoints, async (input) => {
    const points = await listAgentPoints(store, input);
    return [points.length === 0 ? 'No recovery point matches.' : `${plural(points.length, 'recovery point')}, newest first.`, { points }];
  });
  register(AGENT_TOOLS.createPoint, async (input) => {
    // the point is the agent's: named and marked after the client, as its hooks' points are
    const client = server.server.getClientVersion();
    const agent = (client?.title ?? client?.name ?? '').trim().slice(0, 100) || 'an MCP client';
    const point = await store.recovery.createRecoveryPoint(undefined, { trigger: 'agent', agent, label: input.label, summary: `Created by ${agent}` });
    afterPoint();
    return [await createdPointSentence(store, point!), { point: agentPoint(point!) }];
  });
  register(AGENT_TOOLS.showChanges, async (input) => {
    const changes = await agentChanges(store, input);
    return [describeAgentChanges(changes), changes];
  });
  register(AGENT_TOOLS.fileHistory, async (input) => {
    const history = await agentFileHistory(store, input);
    return [describeFileHistory(history), history];
  });
  register(AGENT_TOOLS.readFileVersion, async (input) => {
    const version = await agentReadFileVersion(store, input);
    return [describeFileVersion(version), version];
  });
  register(AGENT_TOOLS.searchHistory, async (input, cancelled) => {
    const worker = options.searchWorker;
    const search = await agentSearchHistory(store, input, undefined, worker && ((store, pattern, searchOptions) => searchHistoryInWorker(worker, store, pattern, searchOptions)), cancelled);
    return [describeSearch(search), search];
  });
  register(AGENT_TOOLS.previewRestore, async (input) => {
    const preview = await agentPreview(store, input);
    const project = store.persistence.workspaceRoots[0]!.path;
    const touched = await hooksTouchedByPlan(project, preview.delete.map((p) => path.resolve(project, p)), [...preview.overwrite, ...preview.create].map((p) => path.resolve(project, p)));
    const notes = hooksTouchedNote(touched, (location) => path.relative(project, location), (agent) => `\`recovery-points hooks install --agent ${agent}\` puts them back`);
    const sentence = [describePreview(preview), ...notes.map((note) => `Note: ${note}.`)].join(' ');
    return [sentence, touched.length > 0 ? { ...preview, hooksTouched: touched } : preview];
  });
  register(AGENT_TOOLS.restorePoint, async (input) => {
    const point = await findPoint(store, input.point);
    const paths = input.paths ? await agentRestorePaths(store, point.id, input.paths) : undefined;
    const project = store.persistence.workspaceRoots[0]!.path;
    const hooksBefore = await projectHooks(project);
    const report = agentRestoreReport(store.persistence.workspaceRoots, await store.recovery.restore(point.id, { paths }));
    afterPoint();
    const hooksRemoved = await hooksRemovedByRestore(project, hooksBefore);
    const notes = hooksRemovedNote(hooksRemoved, (location) => path.relative(project, location), (agent) => `\`recovery-points hooks install --agent ${agent}\` puts them back.`);
    const sentence = [describeRestore(report, false, undoName), ...notes.map((note) => `Note: ${note}`)].join(' ');
    return [sentence, hooksRemoved.length > 0 ? { ...report, hooksRemoved } : report];
  });
  register(AGENT_TOOLS.undoRestore, async () => {
    const report = agentRestoreReport(store.persistence.workspaceRoots, await store.recovery.undoLastRestore());
    afterPoint();
    return [describeRestore(report, true, undoName), report];
  });
  return server;
}

/**
 * The SDK answers a call whose arguments its schema refuses with "Input validation error: Invalid
 * arguments for tool …" and the schema's issues as JSON: the arguments of our tools are checked here
 * instead, against the same schema, and a refusal is one sentence naming the argument and what it
 * takes (`describeInputProblem`), returned as a tool error. The tools still advertise their schema.
 * The SDK's check is a method it keeps to itself: an SDK without it keeps its own answer (mcp.test
 * says so).
 */
function validateArgumentsHere(server: McpServer): void {
  const sdk = server as unknown as { validateToolInput?: (tool: unknown, args: unknown, name: string) => Promise<unknown> };
  const own = sdk.validateToolInput;
  if (typeof own !== 'function') return;
  const specs = new Map<string, AgentToolSpec>(Object.values(AGENT_TOOLS).map((spec) => [spec.mcpName, spec]));
  sdk.validateToolInput = async (tool, args, name) => {
    const spec = specs.get(name);
    if (!spec) return own.call(server, tool, args, name);
    const parsed = spec.input.safeParse(args ?? {});
    // a plain error: the SDK returns its message alone as the tool's error
    if (!parsed.success) throw new Error(describeInputProblem(name, parsed.error, args));
    return parsed.data;
  };
}

/** `cancelled`: aborted when the client cancels the call (`notifications/cancelled`). */
type Handler<S extends AgentToolSpec> = (input: ReturnType<S['input']['parse']>, cancelled: AbortSignal) => Promise<[sentence: string, data: unknown]>;

/** Registers one tool (run in its turn of `order`): its result is a sentence and the data as JSON; its errors are tool errors, never a crash. */
function registerTool<S extends AgentToolSpec>(server: McpServer, logger: Logger, order: CallOrder | undefined, spec: S, handler: Handler<S>): void {
  server.registerTool(
    spec.mcpName,
    {
      title: spec.title,
      description: toolDescription(spec, 'mcp'),
      inputSchema: spec.input,
      annotations: { title: spec.title, readOnlyHint: spec.readOnly, destructiveHint: spec.destructive, idempotentHint: spec.readOnly, openWorldHint: false },
    },
    async (input: unknown, extra: { signal: AbortSignal; requestId: string | number }): Promise<CallToolResult> => {
      try {
        const call = () => handler(input as ReturnType<S['input']['parse']>, extra.signal);
        const [sentence, data] = await (order ? order.run(extra.requestId, call) : call());
        return { content: [{ type: 'text', text: sentence }, { type: 'text', text: JSON.stringify(data, null, 2) }] };
      } catch (error) {
        const message = error instanceof StateError ? error.message : `Unexpected error: ${describeCause(error)}`;
        logger.warn(`${spec.mcpName}: ${message}`);
        return { content: [{ type: 'text', text: message }], isError: true };
      }
    },
  );
}
