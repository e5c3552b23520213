import * as z from 'zod';
import { MAX_LABEL_LENGTH, triggerSchema } from '../schemas';

/**
 * The inputs of the tools an AI agent calls (the MCP server's and the editor's language-model tools):
 * one schema per tool, validated by both, and turned into the JSON schemas they advertise.
 */

export const pointRefSchema = z
  .string()
  .trim()
  .min(1, 'Give a point id, a unique prefix of one, "latest", or a point\'s label.')
  .max(MAX_LABEL_LENGTH, `A point id or label is at most ${MAX_LABEL_LENGTH} characters.`)
  .describe('A recovery point: its id (as listed), a unique prefix of the id or of its last part (after the "-"), "latest" for the newest point, or the label of one point.');

/** A path as an agent gives it: relative to the workspace folder, or absolute inside it. */
export const workspacePathSchema = z
  .string()
  .min(1, 'A path may not be empty.')
  .max(4096, 'A path is at most 4096 characters.')
  .describe('A file or folder path relative to the workspace folder (src/app.ts), or an absolute path inside it.');

export const listPointsInput = z.object({
  since: z.string().max(64).optional().describe('Only points made at or after this time: an ISO date-time (2026-11-29T14:00:00Z) or a duration back from now (90s, 30m, 2h, 7d).'),
  until: z.string().max(64).optional().describe('Only points made at or before this time (same forms as since).'),
  trigger: triggerSchema.optional().describe('Only points made by this trigger: manual (created on request), save, external (files changed outside the editor), startup, before-restore (safety points), restore (the files as a restore left them), agent (made by an agent: its checkpoints and hooks).'),
  actor: z.string().min(1).max(200).optional().describe('Only points whose maker contains this text (case-insensitive), for example "mcp", "cli", "extension" or an agent\'s name.'),
  path: workspacePathSchema.optional().describe('Only points that changed this file, or a file in this folder (relative to the workspace folder).'),
  limit: z.number().int().min(1).max(500).default(50).describe('Most points to return, newest first (default 50).'),
});
export type ListPointsInput = z.infer<typeof listPointsInput>;

export const createPointInput = z.object({
  label: z
    .string()
    .trim()
    .min(1, 'Give the point a label that says why it was made.')
    .max(MAX_LABEL_LENGTH, `A label is at most ${MAX_LABEL_LENGTH} characters.`)
    .describe('Why the point is made, for example "Before refactoring the parser". Labelled points are kept until a person deletes them.'),
});
export type CreatePointInput = z.infer<typeof createPointInput>;

export const showChangesInput = z.object({
  point: pointRefSchema,
  against: z
    .string()
    .trim()
    .min(1)
    .max(MAX_LABEL_LENGTH, `A point id or label is at most ${MAX_LABEL_LENGTH} characters.`)
    .optional()
    .describe('What to compare the point with: omit for what the point itself changed (against its parent point, or the point listed before it when clean-up removed the parent), "current" for the files in the workspace now, or another point (id, prefix, "latest" or its label).'),
});
export type ShowChangesInput = z.infer<typeof showChangesInput>;

export const restoreInput = z.object({
  point: pointRefSchema,
  paths: z
    .array(workspacePathSchema)
    .min(1, 'Give at least one path, or leave paths out to restore the whole point.')
    .max(1000, 'At most 1000 paths.')
    .optional()
    .describe('Restore only these files or folders of the point; omit to restore the whole point.'),
});
export type RestoreInput = z.infer<typeof restoreInput>;

export const undoRestoreInput = z.object({});

/** A file's path only (a folder has no versions). */
const filePathSchema = workspacePathSchema.describe('A file path relative to the workspace folder (src/app.ts), or an absolute path inside it.');

export const fileHistoryInput = z.object({
  path: filePathSchema,
  limit: z.number().int().min(1).max(500).default(50).describe('Most versions to return, newest first (default 50).'),
});
export type FileHistoryInput = z.infer<typeof fileHistoryInput>;

/** Text returned by a read at most, unless the agent asks for less or more. */
export const DEFAULT_READ_BYTES = 100_000;
export const MAX_READ_BYTES = 1_000_000;

export const readFileVersionInput = z
  .object({
    path: filePathSchema,
    point: pointRefSchema.optional().describe('A recovery point holding the file under this path: its id (as listed), a unique prefix of the id or of its last part (after the "-"), "latest", or the label of one point.'),
    version: z
      .string()
      .trim()
      .regex(/^[0-9a-fA-F]{6,64}$/, 'A version is the hash the file\'s history lists (6 to 64 hexadecimal characters).')
      .optional()
      .describe('A version of the file as its history lists it (the version hash, or a unique prefix of it); follows renames.'),
    maxBytes: z.number().int().min(1_000).max(MAX_READ_BYTES).default(DEFAULT_READ_BYTES).describe(`Most bytes of text to return (default ${DEFAULT_READ_BYTES}); a longer version is cut at a line end and says so.`),
  })
  .refine((input) => (input.point === undefined) !== (input.version === undefined), { message: 'Give either point or version (from the file\'s history), not both and not neither.' });
export type ReadFileVersionInput = z.infer<typeof readFileVersionInput>;

export const searchHistoryInput = z.object({
  pattern: z.string().min(1, 'Give the text to search for.').max(1000, 'A search pattern is at most 1000 characters.').describe('The text to find, or a JavaScript regular expression when regex is true.'),
  regex: z.boolean().default(false).describe('Treat pattern as a JavaScript regular expression (default: plain text).'),
  caseSensitive: z.boolean().default(false).describe('Tell upper from lower case (default: ignore case).'),
  paths: z
    .array(z.string().min(1).max(1000))
    .max(50)
    .optional()
    .describe('Only files whose path matches one of these globs, e.g. "src/**/*.ts" or "**/README.md" (relative to the workspace folder).'),
  limit: z.number().int().min(1).max(200).default(20).describe('Most matching versions to return, newest first (default 20).'),
  linesPerVersion: z.number().int().min(1).max(100).default(5).describe('Matching lines returned per version (default 5).'),
});
export type SearchHistoryInput = z.infer<typeof searchHistoryInput>;

/** What an argument holds, in words, where its type alone says too little ("a list of strings"). */
const ARGUMENT_NOUNS: Readonly<Record<string, string>> = {
  point: 'a point id, a unique prefix of one, "latest" or a point\'s label',
  against: '"current", a point id, a unique prefix of one, "latest" or a point\'s label',
  path: 'a path relative to the workspace folder, or an absolute path inside it',
  paths: 'a list of workspace paths',
  version: 'a version hash as the file\'s history lists it',
  since: 'a date-time or a duration back from now (90s, 30m, 2h, 7d)',
  until: 'a date-time or a duration back from now (90s, 30m, 2h, 7d)',
  label: 'text saying why the point is made',
  pattern: 'the text to search for',
};

const TYPE_NOUNS: Readonly<Record<string, string>> = { string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false', array: 'a list', object: 'an object' };

/**
 * One sentence for the first problem `error` found in the arguments `args` of tool `tool`: the
 * argument and what it takes ("restore_point: `paths` must be a list of workspace paths."), or the
 * schema's own sentence where it has one ("…: Give at least one path, or leave paths out to restore
 * the whole point."). What agents read instead of the schema's issues as JSON.
 */
export function describeInputProblem(tool: string, error: z.ZodError, args: unknown): string {
  const issue = error.issues[0];
  if (!issue) return `${tool}: its arguments are not valid.`;
  const sentence = (text: string) => `${tool}: ${text.replace(/[.\s]*$/, '.')}`;
  // the schemas' own messages are sentences; zod's are not ("Invalid input: expected string, received number")
  if (!/^(Invalid|Too (small|big)|Unrecognized)\b/.test(issue.message)) return sentence(issue.message);
  const [key, ...rest] = issue.path;
  if (key === undefined) return sentence('its arguments must be an object of named values');
  const name = String(key);
  const item = rest.length > 0;
  const what = item ? `each item of \`${name}\`` : `\`${name}\``;
  const given = typeof args === 'object' && args !== null ? (args as Record<string, unknown>)[name] : undefined;
  const noun = (expected: string) => (!item && ARGUMENT_NOUNS[name]) || (item && name === 'paths' ? 'a workspace path' : undefined) || TYPE_NOUNS[expected] || expected;
  switch (issue.code) {
    case 'invalid_type':
      return sentence(!item && given === undefined ? `\`${name}\` is missing: give ${noun(issue.expected)}` : `${what} must be ${noun(issue.expected)}`);
    case 'invalid_value':
      return sentence(`${what} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`);
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
      const unit = issue.origin === 'string' ? ' characters long' : issue.origin === 'array' ? ' items long' : '';
      return sentence(`${what} must be ${bound}${unit}`);
    }
    case 'unrecognized_keys':
      return sentence(`it takes no ${issue.keys.map((k) => `\`${k}\``).join(', ')}`);
    default:
      return sentence(`${what} is not valid (${issue.message.replace(/\.$/, '')})`);
  }
}
