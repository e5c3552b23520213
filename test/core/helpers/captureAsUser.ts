/**
 * Runs one full capture of the folder given as the first argument into a store in the second (taking
 * what it cannot read from the root tree given as the third, if any) and prints the captured paths,
 * the skipped lists and the root tree as JSON. The capture tests start it as an
 * unprivileged user when they run as root, where file permissions would not apply.
 */
import * as path from 'node:path';
import { captureWorkspace, CaptureCache, DEFAULT_CAPTURE_RULES, listFiles } from '../../../src/core/capture';
import { ObjectStore } from '../../../src/core/objects/objectStore';

async function main(): Promise<void> {
  const [ws, storeDir, previousRoot] = process.argv.slice(2);
  const store = await ObjectStore.open(path.join(storeDir!, 'objects'));
  const batch = store.beginBatch();
  const result = await captureWorkspace({ roots: [{ name: 'ws', path: ws! }], rules: DEFAULT_CAPTURE_RULES, objects: batch, cache: CaptureCache.empty(), previousRoot });
  await batch.commit();
  const files = [...(await listFiles(store, result.root)).keys()];
  await store.close();
  process.stdout.write(JSON.stringify({ files, skipped: result.skipped, root: result.root }));
}

void main();
