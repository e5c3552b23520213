import * as vscode from 'vscode';
import { describeCause, StateError, type RecoveryStore } from '../core';
import { agentChanges, agentPoint, createdPointSentence, describeAgentChanges, agentPreview, agentRestorePaths, agentRestoreReport, describePreview, describeRestore, findPoint, listAgentPoints, type AgentPreview } from '../core/agentTools/agentQueries';
import { agentFileHistory, agentReadFileVersion, agentSearchHistory, describeFileHistory, describeFileVersion, describeSearch } from '../core/agentTools/historyQueries';
import { searchHistoryInWorker, type SearchWorkerOptions } from '../core/history/searchWorker';
import { AGENT_TOOLS, type AgentToolKey, type AgentToolSpec } from '../core/agentTools/toolCatalog';
import { describeInputProblem } from '../core/agentTools/toolInputs';
import { plural } from '../core/format';
import type { AutoCapture } from './automatic/autoCapture';
import { UserFacingError } from './commands/commandCenter';
import type { Log } from './log';
import type { PointsModel } from './pointsModel';
import type { RestoreFlow } from './restore/restoreFlow';
import type { SessionTracker } from './session/sessionTracker';

export interface LanguageModelToolServices {
  readonly store: RecoveryStore;
  readonly model: PointsModel;
  readonly auto: AutoCapture;
  readonly session: SessionTracker;
  readonly restore: RestoreFlow;
  readonly log: Log;
  /** The worker thread searches run in; `undefined`: in the extension host. */
  readonly searchWorker?: SearchWorkerOptions;
}

type Answer = [sentence: string, data: unknown];
type Input<K extends AgentToolKey> = ReturnType<(typeof AGENT_TOOLS)[K]['input']['parse']>;

interface ToolBehaviour<K extends AgentToolKey> {
  readonly prepare?: (input: Input<K>) => Promise<vscode.PreparedToolInvocation>;
  readonly invoke: (input: Input<K>) => Promise<Answer>;
}

/**
 * The agent tools of `AGENT_TOOLS` as VS Code language-model tools (Copilot's agent mode and any
 * extension can call them): the same abilities as the MCP server, going through the editor's own
 * flows (pending points first, unsaved editors asked about, open editors reloaded). Restore and undo
 * ask the person to confirm, showing what they will touch. Returns the tools by name (tests call
 * `prepareInvocation` through it) and their registrations.
 */
/** Who a point made through a language-model tool is made by: an agent in VS Code's chat (Copilot's agent mode, another chat participant). */
const CHAT_AGENT = 'an agent in VS Code chat';

export function registerLanguageModelTools(s: LanguageModelToolServices): { tools: Map<string, vscode.LanguageModelTool<object>>; registration: vscode.Disposable } {
  const behaviours: { [K in AgentToolKey]: ToolBehaviour<K> } = {
    listPoints: {
      invoke: async (input) => {
        const points = await listAgentPoints(s.store, input);
        return [points.length === 0 ? 'No recovery point matches.' : `${plural(points.length, 'recovery point')}, newest first.`, { points }];
      },
    },
    createPoint: {
      prepare: async (input) => ({ invocationMessage: `Creating recovery point "${input.label}"` }),
      invoke: async (input) => {
        await s.auto.flush();
        await s.session.flush();
        // asked for by an agent in the editor's chat (the tool is not told which): the point is marked as an agent's
        const point = await s.store.recovery.createRecoveryPoint(undefined, { trigger: 'agent', agent: CHAT_AGENT, label: input.label, summary: `Created by ${CHAT_AGENT}` });
        await s.model.refresh();
        s.log.info('agent', `A language-model tool created point ${point!.id} "${input.label}"`);
        return [await createdPointSentence(s.store, point!), { point: agentPoint(point!) }];
      },
    },
    showChanges: {
      invoke: async (input) => {
        const changes = await agentChanges(s.store, input);
        return [describeAgentChanges(changes), changes];
      },
    },
    fileHistory: {
      invoke: async (input) => {
        const history = await agentFileHistory(s.store, input);
        return [describeFileHistory(history), history];
      },
    },
    readFileVersion: {
      invoke: async (input) => {
        const version = await agentReadFileVersion(s.store, input);
        return [describeFileVersion(version), version];
      },
    },
    searchHistory: {
      prepare: async (input) => ({ invocationMessage: `Searching the recovery points for "${input.pattern}"` }),
      invoke: async (input) => {
        const worker = s.searchWorker;
        const search = await agentSearchHistory(s.store, input, undefined, worker && ((store, pattern, options) => searchHistoryInWorker(worker, store, pattern, options)));
        return [describeSearch(search), search];
      },
    },
    previewRestore: {
      invoke: async (input) => {
        const preview = await agentPreview(s.store, input, s.auto.changedSinceNewestPoint());
        return [describePreview(preview), preview];
      },
    },
    restorePoint: {
      prepare: async (input) => {
        const preview = await agentPreview(s.store, input, s.auto.changedSinceNewestPoint());
        const point = await findPoint(s.store, input.point);
        return {
          invocationMessage: `Restoring recovery point ${point.label ? `"${point.label}"` : point.id}`,
          confirmationMessages: { title: `Restore recovery point ${point.label ? `"${point.label}"` : `"${point.summary}"`}?`, message: previewMarkdown(preview) },
        };
      },
      invoke: async (input) => {
        const point = await findPoint(s.store, input.point);
        const paths = input.paths ? await agentRestorePaths(s.store, point.id, input.paths) : undefined;
        const result = await s.restore.run({ point, paths });
        if (!result) return ['Nothing was restored: the files already match the point, or the person cancelled.', { restored: null }];
        const report = agentRestoreReport(s.store.persistence.workspaceRoots, result);
        return [describeRestore(report, false, AGENT_TOOLS.undoRestore.lmName), report];
      },
    },
    undoRestore: {
      prepare: async () => {
        const last = (await s.store.state.syncState()).lastRestore;
        if (!last) throw new UserFacingError('There is no restore to undo.');
        const scope = `Every file the restore changed${last.paths ? ` in ${plural(last.paths.length, 'path')} (${last.paths.slice(0, 10).join(', ')})` : ''}`;
        return {
          invocationMessage: 'Undoing the last restore',
          confirmationMessages: {
            title: 'Undo the last restore?',
            message: new vscode.MarkdownString(`${scope} goes back to safety point \`${last.safetyPointId}\`, made just before the restore of ${last.at}. A new safety point is made first, so this can be undone too.`),
          },
        };
      },
      invoke: async () => {
        const result = await s.restore.undoLast();
        if (!result) return ['Nothing was undone: the files already match the safety point, or the person cancelled.', { restored: null }];
        const report = agentRestoreReport(s.store.persistence.workspaceRoots, result);
        return [describeRestore(report, true, AGENT_TOOLS.undoRestore.lmName), report];
      },
    },
  };

  const tools = new Map<string, vscode.LanguageModelTool<object>>();
  const registrations: vscode.Disposable[] = [];
  for (const key of Object.keys(AGENT_TOOLS) as AgentToolKey[]) {
    const spec: AgentToolSpec = AGENT_TOOLS[key];
    const behaviour = behaviours[key] as ToolBehaviour<AgentToolKey>;
    const tool: vscode.LanguageModelTool<object> = {
      prepareInvocation: async (options) => {
        const input = parseInput(spec, options.input) as Input<AgentToolKey>;
        return behaviour.prepare ? asSentence(spec, () => behaviour.prepare!(input)) : { invocationMessage: spec.title };
      },
      invoke: async (options) => {
        const [sentence, data] = await asSentence(spec, () => behaviour.invoke(parseInput(spec, options.input) as Input<AgentToolKey>));
        return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(sentence), new vscode.LanguageModelTextPart(JSON.stringify(data, null, 2))]);
      },
    };
    tools.set(spec.lmName, tool);
    registrations.push(vscode.lm.registerTool(spec.lmName, tool));
  }
  return { tools, registration: vscode.Disposable.from(...registrations) };

  /** Errors reach the model as one sentence (VS Code hands the message of a thrown error to it). */
  async function asSentence<T>(spec: AgentToolSpec, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof StateError || error instanceof UserFacingError) throw new Error(error.message);
      s.log.error('agent', `${spec.lmName} failed: ${describeCause(error)}`, error);
      throw new Error(`Unexpected error: ${describeCause(error)}`);
    }
  }
}

function parseInput<S extends AgentToolSpec>(spec: S, raw: unknown): ReturnType<S['input']['parse']> {
  const parsed = spec.input.safeParse(raw ?? {});
  if (!parsed.success) throw new Error(describeInputProblem(spec.lmName, parsed.error, raw));
  return parsed.data as ReturnType<S['input']['parse']>;
}

/** The confirmation a person reads before an agent's restore: what it will create, overwrite and delete. */
function previewMarkdown(preview: AgentPreview): vscode.MarkdownString {
  const list = (verb: string, paths: readonly string[]) =>
    paths.length === 0 ? [] : [`**${verb} ${paths.length}:** ${paths.slice(0, 10).map((p) => `\`${p}\``).join(', ')}${paths.length > 10 ? ` and ${paths.length - 10} more` : ''}`];
  const lines = [
    ...list('Overwrite', preview.overwrite),
    ...list('Create', preview.create),
    ...list('Delete', preview.delete),
    ...list('Leave as they are (something not tracked is in the way)', preview.leftAlone.map((l) => l.path)),
  ];
  return new vscode.MarkdownString(
    [
      lines.length === 0 ? 'The files already match this point; nothing would change.' : lines.join('  \n'),
      '',
      'A safety point of the current files is made first: **Undo Last Restore** brings them back. Untracked and ignored files are never touched.',
    ].join('\n'),
  );
}
