/** A folder of changed files, as the SCM view shows it: single-child folder chains compressed into one row (`src/core/history`). */
export interface ChangeFolder<T> {
  /** The row's label: one name, or several joined by `/` for a compressed chain (empty for the top). */
  readonly label: string;
  /** The folder's full path (`a/b/c`; empty for the top). */
  readonly path: string;
  readonly folders: ChangeFolder<T>[];
  readonly files: Array<{ readonly name: string; readonly item: T }>;
  /** Files anywhere below. */
  readonly fileCount: number;
}

interface Building<T> {
  readonly folders: Map<string, Building<T>>;
  readonly files: Array<{ name: string; item: T }>;
}

/** Groups items by the folders of their paths (`a/b/file`), folders first, each level sorted by name. */
export function changeTree<T>(items: Iterable<T>, pathOf: (item: T) => string): ChangeFolder<T> {
  const top: Building<T> = { folders: new Map(), files: [] };
  for (const item of items) {
    const parts = pathOf(item).split('/');
    let folder = top;
    for (const part of parts.slice(0, -1)) {
      let next = folder.folders.get(part);
      if (!next) folder.folders.set(part, (next = { folders: new Map(), files: [] }));
      folder = next;
    }
    folder.files.push({ name: parts.at(-1)!, item });
  }
  return finish(top, '', '');
}

function finish<T>(folder: Building<T>, label: string, path: string): ChangeFolder<T> {
  const folders = [...folder.folders]
    .sort(([a], [b]) => compare(a, b))
    .map(([name, child]) => {
      let chain = name;
      let node = child;
      while (node.files.length === 0 && node.folders.size === 1) {
        const [nextName, next] = [...node.folders][0]!;
        chain = `${chain}/${nextName}`;
        node = next;
      }
      return finish(node, chain, path === '' ? chain : `${path}/${chain}`);
    });
  const files = [...folder.files].sort((a, b) => compare(a.name, b.name));
  return { label, path, folders, files, fileCount: files.length + folders.reduce((sum, f) => sum + f.fileCount, 0) };
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

function compare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
