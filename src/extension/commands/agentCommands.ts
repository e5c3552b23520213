import * as fs from 'node:fs';
import * as path from 'node:path';
import { settingsLocation, type HookScope } from '../../hooks/agentSettings';
import { findHookClient, findNode } from '../../hooks/hookCommand';
import { AGENT_NAMES, AGENTS, type AgentId } from '../../hooks/hookEvent';
import { installHooks } from '../../hooks/hookInstaller';
import type { AutoCapture } from '../automatic/autoCapture';
import type { Log } from '../log';
import type { Prompts } from '../prompts';
import type { WorkspaceFolders } from '../workspaceFolders';
import type { CommandHandler } from './commandCenter';

export interface AgentServices {
  readonly folders: WorkspaceFolders;
  /** Names the point of the settings written (in the project: "Set up Claude Code checkpoints (settings.local.json)"). */
  readonly auto: Pick<AutoCapture, 'nameOwnChange'>;
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
      const { node, electronAsNode } = findNode(process.execPath);
      // by its real path, as `recovery-points hooks install` writes it: one helper serves both
      const cli = fs.realpathSync(path.join(s.extensionPath, 'dist', 'cli.js'));
      const location = settingsLocation(agent.id, scope.scope, project);
      s.auto.nameOwnChange(location, `Set up ${agent.label} checkpoints (${path.basename(location)})`);
      const report = await installHooks({ agent: agent.id, scope: scope.scope, projectDir: project }, { node, cli, electronAsNode, client: findHookClient(cli) }).catch((error: unknown) => {
        s.auto.nameOwnChange(location, undefined);
        throw error;
      });
      if (!report.changed) s.auto.nameOwnChange(location, undefined);
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
