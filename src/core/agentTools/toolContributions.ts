import * as z from 'zod';
import { AGENT_TOOLS, toolDescription, type AgentToolSpec } from './toolCatalog';

/** What package.json's `contributes.languageModelTools` must hold for the agent tools: names, descriptions and input schemas from the catalog. */
export function languageModelToolContributions(): unknown[] {
  return Object.values(AGENT_TOOLS as Record<string, AgentToolSpec>).map((spec) => {
    const { $schema: _schema, ...inputSchema } = z.toJSONSchema(spec.input, { io: 'input', target: 'draft-7' });
    return {
      name: spec.lmName,
      displayName: spec.title,
      toolReferenceName: spec.mcpName.replace(/_/g, '-'),
      canBeReferencedInPrompt: true,
      icon: '$(history)',
      tags: ['recovery-points', 'checkpoints'],
      modelDescription: toolDescription(spec, 'lm'),
      inputSchema,
    };
  });
}
