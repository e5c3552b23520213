import { Transform, type Readable, type Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { STDIO_DEFAULT_MAX_BUFFER_SIZE } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { ErrorCode, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

type Id = string | number | null;

/**
 * Standard input as the SDK's stdio transport reads it, one message a line, with the lines it would
 * drop without a word answered here as JSON-RPC 2.0 asks: a line that is not JSON (-32700), JSON that
 * is no JSON-RPC message (`params: null`; -32600, with its id when it has one), and a tool call whose
 * `arguments` is not an object (-32602, where the SDK answered with its schema's dump), and a line
 * over the transport's limit (-32600; the transport closed the connection on it). A client waiting on
 * that id is told instead of waiting for good.
 */
export function answeringMalformed(input: Readable, output: Writable): Readable {
  let partial = '';
  let partialBytes = 0;
  // a line past the transport's limit (which would close the connection) is dropped up to its end, and answered
  let dropping = false;
  // the dropped line's id, read from its first bytes, so the client waiting on it is answered
  let droppedId: Id = null;
  const answer = (id: Id, code: number, message: string) => output.write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`);
  const pass = (line: string, lines: string[]) => {
    const problem = malformed(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (problem) answer(problem.id, problem.code, problem.message);
    else lines.push(line);
  };
  // a character split between two chunks is put together before the line is looked at
  const decoder = new StringDecoder('utf8');
  const filter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let text = decoder.write(chunk);
      if (dropping) {
        const end = text.indexOf('\n');
        if (end === -1) return done();
        dropping = false;
        answer(droppedId, ErrorCode.InvalidRequest, `Invalid Request: a message over ${STDIO_DEFAULT_MAX_BUFFER_SIZE / (1024 * 1024)} MiB was left unread.`);
        text = text.slice(end + 1);
      }
      const lines: string[] = [];
      let end = text.indexOf('\n');
      if (end === -1) {
        partial += text;
        partialBytes += chunk.length;
      } else {
        pass(partial + text.slice(0, end), lines);
        let start = end + 1;
        for (end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
          pass(text.slice(start, end), lines);
          start = end + 1;
        }
        partial = text.slice(start);
        partialBytes = Buffer.byteLength(partial);
      }
      if (partialBytes > STDIO_DEFAULT_MAX_BUFFER_SIZE) {
        droppedId = topLevelId(partial.slice(0, ID_SEARCH_CHARS));
        partial = '';
        partialBytes = 0;
        dropping = true;
      }
      done(null, lines.length > 0 ? `${lines.join('\n')}\n` : undefined);
    },
    flush(done) {
      const lines: string[] = [];
      partial += decoder.end();
      if (!dropping && partial.trim() !== '') pass(partial, lines);
      done(null, lines.length > 0 ? `${lines.join('\n')}\n` : undefined);
    },
  });
  input.on('error', (error) => filter.destroy(error));
  return input.pipe(filter);
}

function malformed(line: string): { id: Id; code: number; message: string } | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { id: null, code: ErrorCode.ParseError, message: 'Parse error: the line is not JSON (one JSON-RPC message a line).' };
  }
  const id = idOf(value);
  if (!JSONRPCMessageSchema.safeParse(value).success) {
    return { id, code: ErrorCode.InvalidRequest, message: 'Invalid Request: not a JSON-RPC 2.0 message ("jsonrpc": "2.0", a "method" or a "result" or "error", "params" an object when given).' };
  }
  const message = value as { method?: unknown; params?: { name?: unknown; arguments?: unknown } };
  if (message.method === 'tools/call' && typeof message.params?.name !== 'string') {
    return { id, code: ErrorCode.InvalidParams, message: 'Invalid params: tools/call takes "params": { "name": the tool\'s name (tools/list lists them), "arguments": its inputs }.' };
  }
  const args = message.method === 'tools/call' ? message.params?.arguments : undefined;
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
    return { id, code: ErrorCode.InvalidParams, message: 'Invalid params: "arguments" must be an object of the tool\'s inputs (leave it out for a tool that takes none).' };
  }
  return undefined;
}

/** How far into a line too long to read its id is looked for (JSON-RPC clients write it first, or after `jsonrpc`). */
const ID_SEARCH_CHARS = 64 * 1024;

/** The `"id"` of the top-level object in the start of a JSON-RPC line (not one nested in `params`); `null` when not there. */
function topLevelId(start: string): Id {
  let depth = 0;
  for (let i = 0; i < start.length; i++) {
    const c = start[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      if (depth === 1) {
        const key = /^"id"\s*:\s*(-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*")/.exec(start.slice(i, i + 300));
        if (key) return JSON.parse(key[1]!) as string | number;
      }
      // past the string (a key or a value), whatever it holds
      for (i++; i < start.length && start[i] !== '"'; i++) if (start[i] === '\\') i++;
    }
  }
  return null;
}

function idOf(value: unknown): Id {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null;
  const id = (value as { id: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
