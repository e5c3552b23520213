import fs from 'node:fs';

/** Makes `link` fail in this process as on a file system without hard links (FAT, some network folders); returns the undo. */
export function withoutLinks(): () => void {
  const link = fs.linkSync;
  fs.linkSync = (() => {
    throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
  }) as typeof fs.linkSync;
  return () => {
    fs.linkSync = link;
  };
}
