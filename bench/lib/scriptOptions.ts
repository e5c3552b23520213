/** The value after `name` on a benchmark script's command line (`--points 300` → `'300'`), or `undefined`. */
export function optionValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

/** `optionValue` as a number, or `fallback` when the option is not given. */
export function numberOption(name: string, fallback: number): number {
  const value = optionValue(name);
  return value === undefined ? fallback : Number(value);
}
