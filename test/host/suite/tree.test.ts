// The sidebar tree (day → point → changed files) against the store.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { groupByDay } from '../../../src/extension/views/pointsTreeProvider';
import { formatPointTime } from '../../../src/extension/views/changeDiffs';
import { pointTime } from '../../../src/core/ids';
import {
  activeDiff,
  assertPromptsUsed,
  createPoint,
  fileNode,
  fixtureText,
  getApi,
  labelText,
  listPoints,
  pointPath,
  resetAll,
  run,
  settle,
  treeChildren,
  waitFor,
  waitForNewPoint,
  writeFile,
  wsFile,
  type Api,
  type PointSummary,
} from './helpers';

const ICONS: Record<string, string> = { manual: 'bookmark', save: 'save', external: 'file-symlink-directory', 'before-restore': 'shield', restore: 'history', startup: 'folder-opened' };

suite('tree view', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  test('day groups, then points newest first with label or summary, +A ~M −D, trigger icon; children are the changed files', async () => {
    const labelled = await createPoint(api, 'release 1');
    const known = await listPoints(api);
    writeFile('src/greeting.ts', 'export const g = 2;\n');
    writeFile('src/new.ts', 'export const n = 1;\n');
    fs.rmSync(wsFile('src/farewell.ts'));
    const external = await waitForNewPoint(api, known, (p) => p.trigger === 'external');
    await settle(api);
    await api.model!.refresh();
    const points = await listPoints(api);

    const days = await treeChildren(api);
    assert.equal(days.length, 1, 'every point is from today');
    assert.equal(labelText(days[0]!.item), 'Today');
    assert.equal(days[0]!.item.description, `${points.length} points`);
    assert.equal(days[0]!.item.collapsibleState, vscode.TreeItemCollapsibleState.Expanded, 'the newest day starts expanded');

    const rows = await treeChildren(api, days[0]!.node);
    assert.deepEqual(rows.map((r) => (r.node.kind === 'point' ? r.node.point.id : '')), points.map((p) => p.id), 'the points, newest first, as the store lists them');
    for (const { item, node } of rows) {
      const point = (node as { point: PointSummary }).point;
      assert.equal(labelText(item), point.label ?? point.summary);
      assert.ok(String(item.description).endsWith(`+${point.changes.added} ~${point.changes.modified} \u2212${point.changes.deleted}`), `description "${item.description}"`);
      assert.equal((item.iconPath as vscode.ThemeIcon).id, point.label ? 'pinned' : ICONS[point.trigger]);
      assert.equal(item.contextValue, point.label ? 'point.labelled' : 'point');
      assert.ok(item.tooltip instanceof vscode.MarkdownString, 'a rich tooltip');
      const tooltip = item.tooltip.value;
      assert.ok(!tooltip.includes(point.id), `no raw point id in the tooltip: ${tooltip}`);
      assert.ok(tooltip.includes(new Date(pointTime(point)).toLocaleString()), 'the tooltip gives the time it was made');
      assert.match(tooltip, new RegExp(`holds ${point.fileCount} files?,`), 'and the counts');
    }
    const labelledRow = rows.find((r) => r.node.kind === 'point' && r.node.point.id === labelled.id)!;
    assert.equal(labelText(labelledRow.item), 'release 1');
    assert.equal((labelledRow.item.tooltip as vscode.MarkdownString).value.split('Created by hand').length - 1, 1, 'the label, then "Created by hand" once');

    const externalRow = rows.find((r) => r.node.kind === 'point' && r.node.point.id === external.id)!;
    assert.match((externalRow.item.tooltip as vscode.MarkdownString).value, /\$\(file-symlink-directory\) Changed on disk, not by a save in an editor \\\(the explorer, a terminal, another program\\\)/);
    for (const name of ['greeting.ts', 'new.ts', 'farewell.ts']) assert.ok(labelText(externalRow.item).includes(name), `"${labelText(externalRow.item)}" names ${name}`);
    assert.match(String(externalRow.item.description), /\+1 ~1 \u22121$/);
    assert.equal(externalRow.item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const top = await treeChildren(api, externalRow.node);
    assert.deepEqual(
      top.map((f) => [labelText(f.item), f.item.description, f.item.contextValue]),
      [
        ['src', '3 files', 'changedFolder'],
        ['All files', `${external.fileCount} files`, 'allFiles'],
      ],
      'the changed files are in their folder, then the point\'s whole file tree',
    );
    const files = await treeChildren(api, top[0]!.node);
    const seen = files.map((f) => [labelText(f.item), f.item.contextValue]);
    assert.deepEqual(seen, [
      ['farewell.ts', 'file.deleted'],
      ['greeting.ts', 'file.modified'],
      ['new.ts', 'file.added'],
    ]);
    for (const f of files) {
      assert.equal(f.item.command?.command, 'recoveryPoints.openChange', 'a click opens the change');
      assert.equal(f.item.resourceUri?.fsPath, wsFile(`src/${labelText(f.item)}`));
      // the source control's letters for the file as it is now (M, U) would read as what this point changed
      assert.notEqual(f.item.resourceUri?.scheme, 'file', 'a row of a past point carries no decoration of the file on disk');
      assert.equal(api.tree!.getParent(f.node), top[0]!.node, 'a file\'s parent is its folder');
    }
    const view = api.view!;
    assert.match(view.title ?? '', new RegExp(`^${points.length} points · \\d+(\\.\\d)? [KMG]?B$`), 'the view shows the point count and store size');
  });

  test('clicking a changed file opens what the point changed in it: the parent\'s version \u2194 the point\'s, titled with their times; added and deleted files against empty', async () => {
    await createPoint(api, 'base');
    const known = await listPoints(api);
    writeFile('src/greeting.ts', 'export const clicked = 1;\n');
    writeFile('src/added.ts', 'export const added = 1;\n');
    fs.rmSync(wsFile('src/farewell.ts'));
    const point = await waitForNewPoint(api, known, (p) => p.trigger === 'external');
    await settle(api);
    writeFile('src/greeting.ts', 'export const later = 2;\n'); // the current file moved on since the point
    await settle(api);
    await api.model!.refresh();
    const parent = api.model!.find(point.parentId ?? '');
    assert.ok(parent, 'the point has a parent');
    const times = `${formatPointTime(parent, point)} \u2194 ${formatPointTime(point, parent)}`;

    const modified = await fileNode(api, point.id, 'src/greeting.ts');
    const item = await api.tree!.getTreeItem(modified);
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    const diff = await waitFor('a diff editor', () => activeDiff());
    assert.equal(diff.original.scheme, 'recovery-point');
    assert.equal(diff.original.query, point.parentId, 'the left side is the version before the point');
    assert.equal((await vscode.workspace.openTextDocument(diff.original)).getText(), fixtureText('src/greeting.ts'));
    assert.equal(diff.modified.query, point.id, 'the right side is the point\'s own version, not the current file');
    assert.equal((await vscode.workspace.openTextDocument(diff.modified)).getText(), 'export const clicked = 1;\n');
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab!.label, `greeting.ts (${times})`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');

    await run('openChange', await fileNode(api, point.id, 'src/farewell.ts'));
    const gone = await waitFor('a diff editor', () => activeDiff());
    assert.equal(gone.original.query, point.parentId, 'the left side is the version before the point deleted it');
    assert.equal((await vscode.workspace.openTextDocument(gone.original)).getText(), fixtureText('src/farewell.ts'));
    assert.equal(gone.original.path, `/${pointPath('src/farewell.ts')}`);
    assert.equal((await vscode.workspace.openTextDocument(gone.modified)).getText(), '', 'the right side is empty');
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab!.label, `farewell.ts (deleted ${formatPointTime(point)})`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');

    await run('openChange', await fileNode(api, point.id, 'src/added.ts'));
    const added = await waitFor('a diff editor', () => activeDiff());
    assert.equal((await vscode.workspace.openTextDocument(added.original)).getText(), '', 'the left side is empty');
    assert.equal((await vscode.workspace.openTextDocument(added.modified)).getText(), 'export const added = 1;\n');
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab!.label, `added.ts (added ${formatPointTime(point)})`);
  });

  test('points are grouped by day: Today, Yesterday, then dates; only the newest day starts expanded, and a day with a point of the last three hours', () => {
    const now = new Date(2026, 4, 20, 12, 0, 0);
    const at = (d: Date): PointSummary => ({ id: `${d.toISOString().replace(/[-:.]/g, '')}-abcdef` }) as PointSummary;
    const days = groupByDay([at(new Date(2026, 4, 20, 9)), at(new Date(2026, 4, 20, 1)), at(new Date(2026, 4, 19, 23)), at(new Date(2026, 4, 12, 8))], now);
    assert.deepEqual(days.map((d) => [d.label, d.points.length, d.expanded]).slice(0, 2), [['Today', 2, true], ['Yesterday', 1, false]]);
    assert.equal(days.length, 3);
    assert.match(days[2]!.label, /2026/);

    // just past midnight: the points made before it are still in sight
    const late = groupByDay([at(new Date(2026, 4, 21, 0, 10)), at(new Date(2026, 4, 20, 23, 40)), at(new Date(2026, 4, 20, 9)), at(new Date(2026, 4, 12, 8))], new Date(2026, 4, 21, 0, 30));
    assert.deepEqual(late.map((d) => [d.label, d.points.length, d.expanded]).slice(0, 2), [['Today', 1, true], ['Yesterday', 2, true]]);
    assert.equal(late[2]!.expanded, false);
  });
});
