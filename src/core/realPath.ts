import * as fs from 'node:fs';
import * as path from 'node:path';

/** `file` with every link resolved, as far as it exists; the missing rest appended as given. */
export function realPathOf(file: string): string {
  const absolute = path.resolve(file);
  const missing: string[] = [];
  for (let current = absolute; ; current = path.dirname(current)) {
    try {
      return path.join(fs.realpathSync(current), ...missing.reverse());
    } catch {
      if (path.dirname(current) === current) return absolute;
      missing.push(path.basename(current));
    }
  }
}
