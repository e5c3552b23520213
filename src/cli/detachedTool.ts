/** The tool started from elsewhere (the editor): a Node and the tool's `cli.js`; `electronAsNode`, the Node is VS Code's Electron. */
export interface ToolLauncher {
  readonly node: string;
  readonly cli: string;
  readonly electronAsNode?: boolean;
}

/**
 * Starts this tool again, detached, with `args` (a clean-up, the hooks' helper), so the command that
 * starts it does not wait for it; or, given `tool`, that tool (the editor starts the hooks' waiter so).
 * Returns false when it cannot be started; never throws.
 */
export function startToolDetached(args: readonly string[], output: 'ignore' | number = 'ignore', tool?: ToolLauncher): boolean {
  const cli = tool?.cli ?? process.argv[1];
  if (!cli) return false;
  try {
    // the loader options the tool runs with (tsx in development), not a debugger's or a profiler's
    const nodeOptions = tool ? [] : process.execArgv.filter((option) => !/^--(inspect|debug|cpu-prof|heap-prof|prof)/.test(option));
    // loaded here, not at start: child_process brings net and dgram, a few ms of every command's start (#14);
    // a require, not an import(): the launcher runs the bundle in a vm.Script, which has no module loader
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const env = tool?.electronAsNode ? { ...process.env, ELECTRON_RUN_AS_NODE: '1' } : process.env;
    const child = spawn(tool?.node ?? process.execPath, [...nodeOptions, cli, ...args], { detached: true, stdio: ['ignore', output, output], windowsHide: true, env });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
