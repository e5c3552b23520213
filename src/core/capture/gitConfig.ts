import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The value of `core.excludesFile` in one git config file's text (the last one wins, as in git), or
 * `undefined`. Reads sections, comments, quotes and escapes; `include` directives are not followed.
 */
export function excludesFileSetting(text: string): string | undefined {
  let section = '';
  let found: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    const header = /^\[\s*([A-Za-z0-9.-]+)(\s+"(?:[^"\\]|\\.)*")?\s*\]/.exec(line);
    if (header) {
      // `[core "x"]` is a subsection, not `core`; a key may follow the header on its line
      section = header[2] ? '' : header[1]!.toLowerCase();
      line = line.slice(header[0].length).trim();
    }
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (section !== 'core') continue;
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!entry || entry[1]!.toLowerCase() !== 'excludesfile' || entry[2] === undefined) continue;
    found = unquote(entry[2]);
  }
  return found;
}

/** A git config value: quotes removed, `\"`, `\\`, `\t`, `\n` unescaped, a comment outside quotes dropped. */
function unquote(value: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      const next = value[++i]!;
      out += next === 't' ? '\t' : next === 'n' ? '\n' : next;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && (c === '#' || c === ';')) {
      break;
    } else {
      out += c;
    }
  }
  return quoted ? out : out.trimEnd();
}

/** `~` and `~/…` expanded to the home folder (as git does for path settings). */
function expandHome(file: string): string {
  if (file === '~') return os.homedir();
  if (file.startsWith('~/')) return path.join(os.homedir(), file.slice(2));
  return file;
}

/** `$XDG_CONFIG_HOME/git`, or `~/.config/git` when it is unset or empty. */
function xdgGitDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return path.join(xdg ? xdg : path.join(os.homedir(), '.config'), 'git');
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The global excludes file git would read for a repository at `root`: `core.excludesFile` from the
 * user's config files (`$XDG_CONFIG_HOME/git/config`, then `~/.gitconfig`, then the repository's
 * `.git/config`; the last setting wins), tilde-expanded, or git's default `$XDG_CONFIG_HOME/git/ignore`
 * (`~/.config/git/ignore`). Git itself is not run. An empty setting turns the file off (`null`).
 */
export async function globalExcludesFile(root: string): Promise<string | null> {
  let setting: string | undefined;
  for (const config of [path.join(xdgGitDir(), 'config'), path.join(os.homedir(), '.gitconfig'), path.join(root, '.git', 'config')]) {
    const text = await readOptional(config);
    const value = text === undefined ? undefined : excludesFileSetting(text);
    if (value !== undefined) setting = value;
  }
  if (setting === undefined) return path.join(xdgGitDir(), 'ignore');
  if (setting === '') return null;
  const expanded = expandHome(setting);
  return path.isAbsolute(expanded) ? expanded : path.join(root, expanded);
}
