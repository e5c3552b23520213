// Point names (src/core/pointNames.ts) and the saves shared between windows (OtherWindowSaves).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { describeChanges, editorOperationsName, quotedPointName, restoredPointName, safetyPointName, shownFirstPointName, switchedBranchName } from '../../src/core/pointNames';
import { pairRenames } from '../../src/core/capture/renames';
import { OtherWindowSaves } from '../../src/core/state/otherWindowSaves';
import { cleanupAll, makeSandbox, openStore, sleep, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

const point = (summary: string, trigger: 'save' | 'before-restore' | 'restore' = 'save', label: string | null = null) => ({ summary, trigger, label, createdAt: '2026-11-29T14:03:12.000Z' });

describe('point names', () => {
  test('safety and restore points name the point once, flatly, never "Before restoring Before restoring …"', () => {
    const saved = point('Saved general.ts');
    assert.equal(safetyPointName(saved), "Before restoring 'Saved general.ts'");
    assert.equal(restoredPointName(saved, 20), "Restored 'Saved general.ts' (20 files)");
    assert.equal(restoredPointName(saved, 1), "Restored 'Saved general.ts' (1 file)");
    assert.equal(restoredPointName(saved, 1, undefined, { written: ['ws/src/ids.ts'], removed: [] }), "Restored ids.ts from 'Saved general.ts'", 'a restore of chosen files names them');
    assert.equal(restoredPointName(saved, 3, undefined, { written: ['ws/a.ts', 'ws/b.ts', 'ws/c.ts'], removed: [] }), "Restored a.ts, b.ts, c.ts from 'Saved general.ts'");
    assert.equal(restoredPointName(saved, 3, undefined, { written: ['ws/m7.ts'], removed: ['ws/new.ts', 'ws/g.ts'] }), "Restored m7.ts from 'Saved general.ts' (deleted new.ts, g.ts)", 'files the point lacks are named deleted');
    assert.equal(restoredPointName(saved, 1, undefined, { written: [], removed: ['ws/new.ts'] }), "Deleted new.ts as in 'Saved general.ts'");
    const many = { written: ['ws/test/a.ts', 'ws/test/b.ts', 'ws/test/c.ts', 'ws/test/d/e.ts'], removed: ['ws/test/new.ts'] };
    assert.equal(restoredPointName(saved, 5, undefined, { ...many, asked: ['ws/test'] }), "Restored test/ from 'Saved general.ts' (5 files)", 'a folder restored is named as asked');
    assert.equal(restoredPointName(saved, 5, undefined, { ...many, asked: ['ws/test', 'ws/test/a.ts'] }), "Restored test/, a.ts from 'Saved general.ts' (5 files)");
    assert.equal(restoredPointName(saved, 5, undefined, { ...many, asked: ['ws/a', 'ws/b', 'ws/c', 'ws/d'] }), "Restored 'Saved general.ts' (5 files)", 'more than three asked: counted');
    assert.equal(restoredPointName(saved, 4, undefined, { written: ['ws/a.ts', 'ws/b.ts', 'ws/c.ts', 'ws/d.ts'], removed: [] }), "Restored 'Saved general.ts' (4 files)", 'more than three: counted');
    assert.equal(safetyPointName(point('x', 'save', 'before refactoring')), 'Before restoring "before refactoring"');
    const safety = point(safetyPointName(saved), 'before-restore');
    assert.equal(safetyPointName(safety, saved), "Before undoing the restore of 'Saved general.ts'");
    assert.equal(restoredPointName(safety, 2, saved), "Undid restore of 'Saved general.ts' (2 files)");
    assert.doesNotMatch(safetyPointName(safety), /Before restoring .*Before restoring/);
    assert.match(quotedPointName(safety), /^the safety point of \d\d:\d\d:\d\d$/);
    assert.match(quotedPointName(point(restoredPointName(saved, 2), 'restore')), /^the point after the restore of \d\d:\d\d:\d\d$/, 'told apart from the safety point made the same second');
    assert.equal(safetyPointName(safety, null), 'Before undoing the last restore');
  });

  test('files only deleted are named deleted: a folder removed outside the editor, while it was closed, by an agent, while automatic points were off', () => {
    const gone = { added: [], modified: [], deleted: Array.from({ length: 240 }, (_, i) => ({ path: `ws/src/gen/g${i}.js` })) } as never;
    assert.equal(describeChanges('external', gone), 'Deleted outside the editor: g0.js, g1.js, g2.js and 237 more in src/gen');
    assert.equal(describeChanges('startup', gone), 'Deleted while the editor was closed: g0.js, g1.js, g2.js and 237 more in src/gen');
    assert.equal(describeChanges('agent', gone), 'Deleted by an agent: g0.js, g1.js, g2.js and 237 more in src/gen');
    assert.equal(describeChanges('external', gone, {}, { whileOff: true }), 'Deleted while automatic points were off: g0.js, g1.js, g2.js and 237 more in src/gen');
    const mixed = { added: [], modified: [{ path: 'ws/src/app.ts' }], deleted: [{ path: 'ws/src/old.ts' }] } as never;
    assert.equal(describeChanges('external', mixed), 'Changed outside the editor: app.ts, old.ts', 'a deletion among other changes: changed');
  });

  test('changes the caller made itself (a setting it wrote) are named for it, the others as usual after it', () => {
    const changes = (...paths: string[]) => ({ added: [], modified: paths.map((p) => ({ path: p })), deleted: [] }) as never;
    const own = [{ name: 'Turned automatic recovery points on (settings.json)', matches: (p: string) => p === 'ws/.vscode/settings.json' }];
    assert.equal(describeChanges('external', changes('ws/.vscode/settings.json'), {}, { whileOff: true, own }), 'Turned automatic recovery points on (settings.json)');
    assert.equal(
      describeChanges('external', changes('ws/.vscode/settings.json', 'ws/src/app.ts'), {}, { whileOff: true, own, folders: { added: [], removed: [] } }),
      'Turned automatic recovery points on (settings.json); changed while automatic points were off: app.ts',
    );
    assert.equal(describeChanges('external', changes('ws/src/app.ts'), {}, { whileOff: true, own }), 'Changed while automatic points were off: app.ts', 'not among the changes: not named');
  });

  test('a move on disk (git mv) is named after the move: a folder, a file, and what else changed', () => {
    const file = (hash: string) => ({ kind: 'f' as const, hash, size: 1, mode: 0o644 });
    const moved = (from: string, to: string, hash: string) => ({ deleted: { path: from, before: file(hash) }, added: { path: to, after: file(hash) } });
    const diff = (moves: Array<ReturnType<typeof moved>>, modified: string[] = [], added: string[] = []) => ({
      added: [...moves.map((m) => m.added), ...added.map((p, i) => ({ path: p, after: file(`new${i}`) }))],
      modified: modified.map((p) => ({ path: p, before: file('old'), after: file('new') })),
      deleted: moves.map((m) => m.deleted),
    });
    const folder = [moved('ws/src/cli/a.ts', 'ws/src/tool/a.ts', 'h1'), moved('ws/src/cli/b.ts', 'ws/src/tool/b.ts', 'h2'), moved('ws/src/cli/deep/c.ts', 'ws/src/tool/deep/c.ts', 'h3')];
    assert.equal(describeChanges('external', diff(folder)), 'Moved src/cli \u2192 src/tool (3 files)');
    assert.equal(describeChanges('external', diff(folder, ['ws/src/index.ts'])), 'Moved src/cli \u2192 src/tool (3 files); changed outside the editor: index.ts');
    assert.equal(describeChanges('startup', diff(folder)), 'Moved src/cli \u2192 src/tool (3 files) while the editor was closed');
    assert.equal(describeChanges('startup', diff(folder), {}, { sinceOpened: new Set(['ws/src/tool/a.ts']) }), 'Moved src/cli \u2192 src/tool (3 files)', 'a file of it written since the editor opened: not said to be while it was closed');
    assert.equal(describeChanges('external', diff([moved('ws/src/a.ts', 'ws/src/b.ts', 'h1')])), 'Renamed a.ts \u2192 b.ts');
    assert.equal(describeChanges('external', diff([moved('ws/a.ts', 'ws/lib/a.ts', 'h1')])), 'Moved a.ts \u2192 lib/a.ts');
    const toTop = [moved('ws/src/cli/a.ts', 'ws/cli/a.ts', 'h1'), moved('ws/src/cli/b.ts', 'ws/cli/b.ts', 'h2')];
    assert.equal(describeChanges('external', diff(toTop)), 'Moved src/cli \u2192 cli (2 files)');
    // renames that are not one folder's: no move is named
    const scattered = [moved('ws/a/x.ts', 'ws/b/x.ts', 'h1'), moved('ws/c/y.ts', 'ws/d/y.ts', 'h2')];
    assert.match(describeChanges('external', diff(scattered)), /^Changed outside the editor: /);
    // a copy (the old file kept) is no move
    assert.match(describeChanges('external', { added: [{ path: 'ws/b.ts', after: file('h1') }], modified: [], deleted: [] }), /^Changed outside the editor: b\.ts$/);
    assert.equal(describeChanges('save', diff([moved('ws/src/a.ts', 'ws/src/b.ts', 'h1')])), 'Saved b.ts, a.ts', 'a save\'s point is named after the save');
  });

  test('a name of many files says where they are when their names alone would not: one folder, or how many folders and below which', () => {
    const modified = (paths: string[]) => ({ added: [], deleted: [], modified: paths.map((p) => ({ path: p })) });
    const generated = Array.from({ length: 1200 }, (_, i) => `ws/src/gen/f${String(i % 40).padStart(2, '0')}/g${Math.floor(i / 40)}.js`).sort();
    assert.equal(describeChanges('external', modified(generated)), 'Changed outside the editor: g0.js, g1.js, g10.js and 1,197 more in 40 folders under src/gen');
    const scattered = Array.from({ length: 40 }, (_, i) => `ws/d${i}/x${i}.ts`);
    assert.equal(describeChanges('external', modified(scattered)), 'Changed outside the editor: x0.ts, x1.ts, x2.ts and 37 more in 40 folders');
    assert.equal(describeChanges('save', modified(['ws/src/gen/a.ts', 'ws/src/gen/b.ts', 'ws/src/gen/c.ts', 'ws/src/gen/d.ts'])), 'Saved a.ts, b.ts, c.ts and 1 more in src/gen');
    assert.equal(describeChanges('save', modified(['ws/a.ts', 'ws/b.ts', 'ws/c.ts', 'ws/d.ts'])), 'Saved a.ts, b.ts, c.ts and 1 more', 'at the top of the folder: nothing to add');
    assert.equal(describeChanges('save', modified(['ws/src/a.ts', 'ws/lib/b.ts'])), 'Saved a.ts, b.ts', 'three or fewer: their names');
    const deep = ['a', 'b', 'c', 'd'].map((n) => `ws/packages/application-server/src/generated/openapi/${n}.ts`);
    assert.equal(describeChanges('save', modified(deep)), 'Saved a.ts, b.ts, c.ts and 1 more in \u2026/generated/openapi', 'a long folder is cut to its end');
    assert.equal(describeChanges('external', modified(['one/a.ts', 'one/b.ts', 'two/c.ts', 'two/d.ts'])), 'Changed outside the editor: a.ts, b.ts, c.ts and 1 more in 2 folders', 'two workspace folders');
  });

  test('files of the same name are told apart by their folder\'s', () => {
    const change = (p: string) => ({ path: p });
    const changes = { added: [], deleted: [], modified: ['ws/index.js', 'ws/lib/db.js', 'ws/lib/router/index.js', 'ws/lib/view.js'].map(change) };
    assert.equal(describeChanges('external', changes), 'Changed outside the editor: ws/index.js, db.js, router/index.js and 1 more in 3 folders');
    assert.equal(describeChanges('external', changes, {}, { whileOff: true }), 'Changed while automatic points were off: ws/index.js, db.js, router/index.js and 1 more in 3 folders');
    const switched = { before: { branch: 'x' }, after: { branch: 'main' } };
    assert.equal(describeChanges('external', changes, {}, { switched, whileOff: true }), 'Switched branch x \u2192 main while automatic points were off: ws/index.js, db.js, router/index.js and 1 more in 3 folders');
    assert.equal(describeChanges('save', { ...changes, modified: changes.modified.slice(1, 2) }), 'Saved db.js');
    // a point made by hand that deleted g.txt: not "Created by hand: g.txt", which reads as g.txt created
    assert.equal(describeChanges('manual', { added: [], modified: [], deleted: [change('ws/g.txt')] }), 'Created by hand; changed: g.txt');
    assert.equal(describeChanges('manual', { added: [], modified: [], deleted: [] }), 'Created by hand');
    assert.equal(restoredPointName(point('Saved a.ts'), 2, undefined, { written: ['ws/src/a/util.ts', 'ws/src/b/util.ts'], removed: [] }), "Restored a/util.ts, b/util.ts from 'Saved a.ts'");
  });

  test('a save whose point looked at every file names the saved files as saved and the others as changed outside the editor', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    // the capture rules changed: the next point looks at every file, whatever the hint says
    store.persistence.configure({ rules: { excludes: ['*.log'] } });
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'b.txt': null, 'd.txt': 'd\n' });
    const modes: string[] = [];
    const mixed = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')], onCaptureMode: (m) => modes.push(m) }))!;
    assert.deepEqual(modes, ['full']);
    assert.equal(mixed.summary, 'Saved a.txt; changed outside the editor: d.txt, b.txt');
    store.persistence.configure({ rules: { excludes: ['*.tmp'] } });
    await writeFiles(sb.ws, { 'c.txt': 'c2\n' });
    const outside = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.equal(outside.summary, 'Changed outside the editor: c.txt', 'the saved file had not changed');
    await writeFiles(sb.ws, { 'a.txt': 'a3\n' });
    const hinted = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.equal(hinted.summary, 'Saved a.txt');
  });

  test('branch switches and the editor\'s file operations', () => {
    assert.equal(switchedBranchName({ branch: 'x' }, { branch: 'master' }), 'Switched branch x → master');
    assert.equal(switchedBranchName({ branch: 'main' }, { commit: '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d' }), 'Checked out 1a2b3c4 (was on main)');
    assert.equal(editorOperationsName([{ kind: 'delete', path: '/w/src/x.ts' }]), 'Deleted x.ts in the explorer');
    assert.equal(editorOperationsName([{ kind: 'rename', from: '/w/a.ts', to: '/w/b.ts' }]), 'Renamed a.ts → b.ts');
  });

  test('a folder added to the workspace or removed from it is named as such, not as its files\' changes', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.root, { 'one/a.txt': 'a\n', 'two/b.txt': 'b\n', 'two/c/d.txt': 'd\n' });
    const one = { name: 'one', path: path.join(sb.root, 'one') };
    const two = { name: 'two', path: path.join(sb.root, 'two') };
    const store = await openStore(sb, { roots: [one] });
    await store.recovery.createRecoveryPoint();
    store.persistence.configure({ roots: [one, two] });
    assert.equal((await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!.summary, 'Added folder two to the workspace (2 files)');
    await writeFiles(sb.root, { 'one/a.txt': 'a saved\n' });
    store.persistence.configure({ roots: [one] });
    const removed = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.root, 'one/a.txt')] }))!;
    assert.equal(removed.summary, 'Removed folder two from the workspace; saved a.txt');
    // renamed on disk, the workspace file following: the same folder, named as renamed; moved to another place: by its paths
    store.persistence.configure({ roots: [one, two] });
    await store.recovery.createRecoveryPoint();
    await fs.rename(two.path, path.join(sb.root, 'deux'));
    await writeFiles(sb.root, { 'deux/b.txt': 'b edited\n' });
    store.persistence.configure({ roots: [one, { name: 'deux', path: path.join(sb.root, 'deux') }] });
    assert.equal((await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!.summary, 'Renamed folder two \u2192 deux; changed outside the editor: b.txt');
    await fs.mkdir(path.join(sb.root, 'elsewhere'));
    await fs.rename(path.join(sb.root, 'deux'), path.join(sb.root, 'elsewhere', 'deux'));
    store.persistence.configure({ roots: [one, { name: 'deux', path: path.join(sb.root, 'elsewhere', 'deux') }] });
    assert.equal((await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!.summary, `Moved folder ${path.join(sb.root, 'deux')} \u2192 ${path.join(sb.root, 'elsewhere', 'deux')}`);
  });

  test('a start-up point names the files written since the editor opened (saved while the extension was starting) apart from those changed while it was closed', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const openedAt = Date.now() - 60_000;
    const beforeOpening = new Date(openedAt - 3_600_000);
    const edit = async (files: Record<string, string>, closed: readonly string[]) => {
      await writeFiles(sb.ws, files);
      for (const rel of closed) await fs.utimes(path.join(sb.ws, rel), beforeOpening, beforeOpening);
      return (await store.recovery.createRecoveryPoint(undefined, { trigger: 'startup', openedAt }))!.summary;
    };
    assert.equal(await edit({ 'a.txt': 'edited while closed\n' }, ['a.txt']), 'Changed while the editor was closed: a.txt');
    assert.equal(await edit({ 'b.txt': 'saved while starting\n' }, []), 'Changed since the editor opened: b.txt');
    assert.equal(await edit({ 'a.txt': 'closed again\n', 'c.txt': 'saved\n', 'd.txt': 'new\n' }, ['a.txt']), 'Changed while the editor was closed: a.txt; since it opened: c.txt, d.txt');
    await writeFiles(sb.ws, { 'b.txt': 'no time given\n' });
    assert.equal((await store.recovery.createRecoveryPoint(undefined, { trigger: 'startup' }))!.summary, 'Changed while the editor was closed: b.txt', 'without the time the editor opened, as before');
  });

  test('changes on disk after git commands that moved HEAD (its reflog) are named after them; commits and older commands are not', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/main\n', 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const seconds = () => Math.floor(Date.now() / 1000);
    let reflog = `${'0'.repeat(40)} ${'1'.repeat(40)} A U Thor <a@example.com> ${seconds() - 3600} +0100\tpull: Fast-forward\n`;
    const ran = async (messages: string[], files: Record<string, string>, trigger: 'external' | 'startup' = 'external') => {
      // the reflog's times are whole seconds: the commands come in the second after the point before
      await sleep(1000 - (Date.now() % 1000) + 5);
      for (const message of messages) reflog += `${'1'.repeat(40)} ${'2'.repeat(40)} A U Thor <a@example.com> ${seconds()} +0100\t${message}\n`;
      await writeFiles(sb.ws, { '.git/logs/HEAD': reflog, ...files });
      return (await store.recovery.createRecoveryPoint(undefined, { trigger }))!.summary;
    };
    assert.equal(await ran(['commit: edit the readme', 'pull origin main: Fast-forward'], { 'a.txt': 'pulled\n' }), 'git pull: a.txt', 'the pull an hour ago and the commit are not named');
    assert.equal(await ran(['reset: moving to HEAD~1'], { 'b.txt': 'reset\n' }), 'git reset to HEAD~1: b.txt');
    assert.equal(await ran(["merge feature: Merge made by the 'ort' strategy."], { 'a.txt': 'merged\n', 'c.txt': 'new\n' }), 'git merge feature: a.txt, c.txt');
    assert.equal(await ran(['rebase (start): checkout main', 'rebase (pick): fix', 'rebase (finish): returning to refs/heads/topic'], { 'a.txt': 'rebased\n' }), 'git rebase of topic: a.txt');
    // git merge --abort: a reset to HEAD no person typed, not named
    assert.equal(await ran(['reset: moving to HEAD'], { 'b.txt': 'aborted\n' }), 'Changed outside the editor: b.txt');
    // git stash: the same reset, with an entry in the stash's log
    await writeFiles(sb.ws, { '.git/logs/refs/stash': `${'0'.repeat(40)} ${'3'.repeat(40)} A U Thor <a@example.com> ${seconds() + 1} +0100\tWIP on main: 1111111 x\n` });
    assert.equal(await ran(['reset: moving to HEAD'], { 'a.txt': 'stashed\n' }), 'git stash: a.txt');
    assert.equal(await ran(['cherry-pick: fix the bug'], { 'b.txt': 'picked\n' }, 'startup'), 'git cherry-pick of "fix the bug" while the editor was closed: b.txt');
    assert.equal(await ran(['revert: Revert "fix the bug"'], { 'b.txt': 'reverted\n' }), 'git revert of "fix the bug": b.txt');
    assert.equal(await ran(['commit: only a commit'], { 'a.txt': 'edited\n' }), 'Changed outside the editor: a.txt');
  });

  test('git stash and git stash pop in a real repository: the pop (which moves no HEAD) is told by the stash\'s log, rewritten or deleted', async () => {
    const sb = await makeSandbox();
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=A U Thor', '-c', 'user.email=a@example.com', ...args], { cwd: sb.ws, stdio: 'pipe' });
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const point = async (files: Record<string, string>, command: () => void) => {
      await writeFiles(sb.ws, files);
      await store.recovery.createRecoveryPoint();
      // the reflog's times are whole seconds: the command comes in the second after the point before
      await sleep(1000 - (Date.now() % 1000) + 5);
      command();
      return (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!.summary;
    };
    assert.equal(await point({ 'a.txt': 'first stash\n' }, () => git('stash', '-q')), 'git stash: a.txt');
    assert.equal(await point({ 'b.txt': 'second stash\n' }, () => git('stash', '-q')), 'git stash: b.txt');
    assert.equal(await point({}, () => git('stash', 'pop', '-q')), 'git stash pop: b.txt', 'a stash is left: its log is rewritten without the newest entry');
    assert.equal(await point({}, () => git('checkout', '-q', '--', 'b.txt')), 'Changed outside the editor: b.txt', 'no stash taken back since');
    assert.equal(await point({}, () => git('stash', 'pop', '-q')), 'git stash pop: a.txt', 'the last stash: its log is deleted');
    assert.equal(await point({}, () => git('checkout', '-q', '--', 'a.txt')), 'Changed outside the editor: a.txt');
  });

  test('each point records its folder\'s HEAD; changes on disk with the HEAD moved since the point before are named after the switch', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/main\n', 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint())!;
    assert.deepEqual(first.roots[0]!.head, { branch: 'main' });
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/feature/login\n', 'a.txt': 'a on the branch\n' });
    const startup = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'startup' }))!;
    assert.equal(startup.summary, 'Switched branch main → feature/login while the editor was closed: a.txt');
    assert.deepEqual(startup.roots[0]!.head, { branch: 'feature/login' });
    const commit = '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d';
    await writeFiles(sb.ws, { '.git/HEAD': `${commit}\n`, 'b.txt': null });
    const detached = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.equal(detached.summary, 'Checked out 1a2b3c4 (was on feature/login): b.txt');
    assert.deepEqual(detached.roots[0]!.head, { commit });
    await writeFiles(sb.ws, { 'a.txt': 'a again\n' });
    const same = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.equal(same.summary, 'Changed outside the editor: a.txt', 'the HEAD did not move');
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/main\n', 'a.txt': 'a saved\n' });
    const saved = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.equal(saved.summary, 'Saved a.txt', 'a save is named after what was saved');
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/feature/login\n', 'a.txt': 'a with a label\n' });
    const given = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external', summary: 'Deleted x.ts in the explorer' }))!;
    assert.equal(given.summary, 'Deleted x.ts in the explorer', 'a name the caller gives stands');
    // a file's creation time is read from a coarse clock: created a moment after a point, it could read as older (and "now tracked")
    await sleep(50);
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/main\n', '.gitignore': 'b.txt\n', 'b.txt': 'b back, ignored\n', 'c.txt': 'c\n' });
    const withRules = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.equal(withRules.summary, 'Switched branch feature/login → main: .gitignore, c.txt');
    // a worktree's (or a submodule's) `.git` file names the folder that holds its HEAD
    const tree = await makeSandbox();
    await writeFiles(tree.root, { 'ws/.git': 'gitdir: ../repo/.git/worktrees/ws\n', 'repo/.git/worktrees/ws/HEAD': 'ref: refs/heads/topic\n', 'ws/x.txt': 'x\n' });
    assert.deepEqual((await (await openStore(tree)).recovery.createRecoveryPoint())!.roots[0]!.head, { branch: 'topic' });
    // a HEAD that is a pipe is not waited on: the point is made without it
    const piped = await makeSandbox();
    await writeFiles(piped.ws, { 'z.txt': 'z\n', '.git/info/exclude': '' });
    execFileSync('mkfifo', [path.join(piped.ws, '.git', 'HEAD')]);
    assert.equal('head' in (await (await openStore(piped)).recovery.createRecoveryPoint())!.roots[0]!, false);
    const none = await makeSandbox();
    await writeFiles(none.ws, { 'y.txt': 'y\n' });
    assert.equal('head' in (await (await openStore(none)).recovery.createRecoveryPoint())!.roots[0]!, false, 'no repository: no HEAD recorded');
  });

  test('a first point with a moved folder\'s or a bundle\'s history below it is named by what changed since that history', () => {
    const roots = (...paths: string[]) => ({ roots: paths.map((p) => ({ name: path.basename(p), path: p })) });
    const none = { added: [], modified: [], deleted: [] };
    const edited = { ...none, modified: [{ path: 'app-2/index.js' }] };
    const startup = (...paths: string[]) => ({ trigger: 'startup' as const, fileCount: 3, ...roots(...paths) });
    assert.equal(shownFirstPointName(startup('/w/app-2'), roots('/w/app'), none), 'Moved app → app-2');
    assert.equal(shownFirstPointName(startup('/w/app-2'), roots('/w/app'), edited), 'Moved app → app-2; changed while the editor was closed: index.js');
    assert.equal(shownFirstPointName(startup('/v/app'), roots('/w/app'), none), 'Moved /w/app → /v/app', 'the same name elsewhere: by path');
    assert.equal(shownFirstPointName(startup('/w/app'), roots('/w/app'), edited), 'Changed while the editor was closed: index.js', 'not moved (a bundle\'s history below it)');
    assert.equal(shownFirstPointName(startup('/w/app'), roots('/w/app'), none), 'No changes since the point before it');
    // an unrelated project's history below it (a bundle imported by mistake): no file in common, so no move
    const unrelated = { added: [{ path: 'b/1' }, { path: 'b/2' }, { path: 'b/3' }], modified: [], deleted: [{ path: 'a/one.txt' }] };
    assert.equal(shownFirstPointName(startup('/w/b'), roots('/w/a'), unrelated), 'First recovery point; the points before it are another folder\'s (a)');
    assert.equal(shownFirstPointName(startup('/v/a'), roots('/w/a'), { ...unrelated, added: unrelated.added.slice(0, 2) }), 'Moved /w/a \u2192 /v/a; changed while the editor was closed: 1, 2, one.txt', 'a file in common: a move');
    // the other folder still there (a copy's or a clone's history, imported): nothing moved
    assert.equal(shownFirstPointName(startup('/w/app-2'), roots('/w/app'), edited, (folder) => folder === '/w/app'), 'First recovery point; the points before it are another folder\'s (app)');
    // the same folder in a window of another shape (its history copied here): folders added or removed, not moved
    const lib = { added: [{ path: 'lib/l.ts' }, { path: 'lib/m.ts' }], modified: [], deleted: [] };
    assert.equal(shownFirstPointName(startup('/w/app', '/w/lib'), roots('/w/app'), lib), 'Added folder lib to the workspace (2 files)');
    assert.equal(shownFirstPointName(startup('/w/app', '/w/lib'), roots('/w/app'), { ...lib, modified: [{ path: 'app/index.js' }] }), 'Added folder lib to the workspace (2 files); changed while the editor was closed: index.js');
    assert.equal(shownFirstPointName(startup('/w/app'), roots('/w/app', '/w/lib'), { ...none, deleted: [{ path: 'lib/l.ts' }] }), 'Removed folder lib from the workspace');
  });
});

describe('saves shared between windows', () => {
  test('a file whose size and modification time are what another window\'s save left is recognised; a later write is not', async () => {
    const sb = await makeSandbox();
    const dir = path.join(sb.store, 'cache', 'saves');
    const file = path.join(sb.ws, 'a.txt');
    await fs.mkdir(sb.ws, { recursive: true });
    await fs.writeFile(file, 'saved in window one\n');
    const stat = await fs.stat(file);
    await new OtherWindowSaves(dir, 'extension:1').record([{ path: file, size: stat.size, mtimeMs: stat.mtimeMs }]);
    const other = new OtherWindowSaves(dir, 'extension:2');
    assert.deepEqual([...(await other.savedElsewhere([file]))], [file]);
    assert.deepEqual([...(await new OtherWindowSaves(dir, 'extension:1').savedElsewhere([file]))], [], 'a window\'s own saves are not "another window"');
    await sleep(20);
    await fs.writeFile(file, 'rewritten by a formatter\n');
    assert.deepEqual([...(await other.savedElsewhere([file]))], []);
    // A damaged document of another window is ignored, not an error.
    await fs.writeFile(path.join(dir, 'extension_3.json'), '{ not json');
    assert.deepEqual([...(await other.savedElsewhere([file]))], []);
  });
});

describe('pairing renamed files', () => {
  test('many files of one content (empty __init__.py files) moved with their folders: each paired with its own, few or many', () => {
    for (const n of [5, 300]) {
      const info = { kind: 'f' as const, hash: 'e'.repeat(64), size: 0, mode: 0o644 };
      const deleted = Array.from({ length: n }, (_, i) => ({ path: `ws/old/p${i}/__init__.py`, before: info }));
      const added = Array.from({ length: n }, (_, i) => ({ path: `ws/new/p${(i * 7) % n}/__init__.py`, after: info }));
      added.push({ path: 'ws/other.py', after: info });
      deleted.push({ path: 'ws/gone/elsewhere.py', before: info });
      const pairs = pairRenames({ added, deleted });
      assert.equal(pairs.length, n + 1);
      for (const p of pairs.filter((p) => p.to !== 'ws/other.py')) assert.equal(p.from.replace('/old/', '/new/'), p.to, `${p.from} → ${p.to}`);
      assert.deepEqual(pairs.find((p) => p.to === 'ws/other.py'), { from: 'ws/gone/elsewhere.py', to: 'ws/other.py', changed: false }, 'the one left, whatever its name');
    }
  });
});
