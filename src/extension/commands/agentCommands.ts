import * as fs from 'node:fs';
import * as path from 'node:path';
import { settingsLocation, type HookScope } from '../../hooks/agentSettings';
import { findHookClient, findNode, type HookLauncher } from '../../hooks/hookCommand';
import { AGENT_NAMES, AGENTS, type AgentId } from '../../hooks/hookEvent';
import { installHooks, repairHooks } from '../../hooks/hookInstaller';
import type { AutoCapture } from '../automatic/autoCapture';
import type { Log } from '../log';
import type { Prompts } from '../prompts';
import type { WorkspaceFolders } from '../workspaceFolders';
import type { CommandHandler } from './commandCenter';

export interface AgentServices {
  readonly folders: WorkspaceFolders;
  /** Names the point of the settings written (in the project: "Set up Claude Code checkpoints (settings.local.json)"). */
  readonly auto: Pick<AutoCapture, 'nameOwnChange' | 'ownChangeWritten'>;
  readonly log: Log;
  readonly prompts: Prompts;
  /** The extension's folder: its `dist/cli.js` is the command-line tool the hooks run. */
  readonly extensionPath: string;
}

const WHERE: Record<AgentId, string> = {
  claude: 'hooks in Claude Code’s settings',
  copilot: 'VS Code agent hooks (Copilot agent mode)',
  cline: 'Cline hook scripts',
};

/** How this extension's hooks are started: the Node it finds and its own `dist/cli.js`, by its real path (as `recovery-points hooks install` writes it: one helper serves both). */
export function extensionLauncher(extensionPath: string): HookLauncher {
  const { node, electronAsNode } = findNode(process.execPath);
  const cli = fs.realpathSync(path.join(extensionPath, 'dist', 'cli.js'));
  return { node, cli, electronAsNode, client: findHookClient(cli) };
}

/**
 * At start-up: agent hooks installed earlier that name paths now gone (this extension's folder before
 * an update, VS Code Server's Node before the server's) are installed again with this version's, so the
 * agent's checkpoints do not stop without a word. Hooks that work are left alone.
 */
export async function repairAgentHooks(s: AgentServices): Promise<void> {
  const project = s.folders.all[0]?.path;
  if (!project) return;
  const launcher = extensionLauncher(s.extensionPath);
  // the project's settings files are workspace files: the point of the change says what it was
  const places = AGENTS.map((agent) => settingsLocation(agent, 'project', project));
  for (const place of places) s.auto.nameOwnChange(place, 'Updated the agent checkpoint hooks to this version of Recovery Points');
  const written = new Set<string>();
  try {
    for (const report of await repairHooks(project, launcher)) {
      if (report.changed) written.add(report.location);
      s.log.info('command', `Agent checkpoints for ${AGENT_NAMES[report.agent]} (${report.scope}): installed again in ${report.location}, as ${report.missing!.join(', ')} is gone`);
    }
  } finally {
    for (const place of places) if (!written.has(place)) s.auto.nameOwnChange(place, undefined);
    await Promise.all([...written].map((place) => s.auto.ownChangeWritten(place)));
  }
}

/** Set Up Agent Checkpoints…: the same as `recovery-points hooks install`, with a quick pick of agent and scope. */
export function agentCommands(s: AgentServices): Record<string, CommandHandler> {
  return {
    'recoveryPoints.setUpAgentCheckpoints': async () => {
      const project = s.folders.all[0]!.path;
      const agent = await s.prompts.pick(
        AGENTS.map((id) => ({ label: AGENT_NAMES[id], description: WHERE[id], id })),
        { title: 'Set Up Agent Checkpoints', placeHolder: 'The agent whose hooks make a recovery point before its edits, after its commands and at each prompt' },
      );
      if (!agent) return undefined;
      const scopes: Array<{ label: string; description: string; scope: HookScope }> = [
        { label: 'This Project', description: settingsLocation(agent.id, 'project', project), scope: 'project' },
        { label: 'All Projects', description: settingsLocation(agent.id, 'user', project), scope: 'user' },
      ];
      const scope = await s.prompts.pick(scopes, { title: `Set Up Agent Checkpoints for ${agent.label}`, placeHolder: 'Where to add the hooks' });
      if (!scope) return undefined;
      const location = settingsLocation(agent.id, scope.scope, project);
      s.auto.nameOwnChange(location, `Set up ${agent.label} checkpoints (${path.basename(location)})`);
      const report = await installHooks({ agent: agent.id, scope: scope.scope, projectDir: project }, extensionLauncher(s.extensionPath)).catch((error: unknown) => {
        s.auto.nameOwnChange(location, undefined);
        throw error;
      });
      if (!report.changed) s.auto.nameOwnChange(location, undefined);
      else await s.auto.ownChangeWritten(location);
      s.log.info('command', `Agent checkpoints for ${agent.label}: ${report.changed ? 'installed in' : 'already in'} ${report.location}${report.backup ? ` (backup ${report.backup})` : ''}`);
      const backup = report.backup ? ` The file as it was is in ${path.basename(report.backup)}.` : '';
      void s.prompts.notify(
        'information',
        report.changed ? `${agent.label} now makes recovery points as it works (hooks in ${report.location}).${backup}` : `${agent.label}'s checkpoints were already set up in ${report.location}.`,
      );
      return report;
    },
  };
}
