// Writes package.json's `contributes.languageModelTools` from the agent tools' catalog
// (src/core/agentTools): run `node --import tsx scripts/writeToolContributions.ts` after changing a
// tool's name, description or input. test/core/agentTools.test.ts checks the two agree.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { languageModelToolContributions } from '../src/core/agentTools/toolContributions';

const file = path.join(__dirname, '..', 'package.json');
const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { contributes: Record<string, unknown> };
manifest.contributes.languageModelTools = languageModelToolContributions();
fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
