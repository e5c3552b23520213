import * as vscode from 'vscode';
import { describeCause, describeHead, pointBase, type PointSummary, type RecoveryStore } from '../../core';
import { plural } from '../../core/format';
import type { Log } from '../log';

/** Words a trigger is also found by. */
const TRIGGER_TERMS: Record<PointSummary['trigger'], string> = {
  manual: 'manual created by hand',
  save: 'save saved',
  external: 'external changed outside',
  'before-restore': 'before-restore safety',
  restore: 'restore restored',
  startup: 'startup opened',
  agent: 'agent ai assistant',
};

/**
 * The points tree's filter: a point is shown when every word typed is found (any case) in its label,
 * its summary, its trigger, the git branch its folders were on, or the path of a file it changed. Points never change, so the files each
 * changed are listed once and kept.
 */
export class PointsFilter implements vscode.Disposable {
  private words: string[] = [];
  private text = '';
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the filter changes (the tree refreshes). */
  readonly onDidChange = this.changed.event;
  private readonly applied = new vscode.EventEmitter<{ shown: number; total: number }>();
  /** Fires with the counts each time the filtered list is made. */
  readonly onDidApply = this.applied.event;
  private readonly files = new Map<string, Promise<string>>();

  constructor(
    private readonly store: RecoveryStore,
    private readonly log: Log,
  ) {}

  get value(): string {
    return this.text;
  }

  get active(): boolean {
    return this.words.length > 0;
  }

  set(text: string): void {
    this.text = text.trim();
    this.words = this.text.toLowerCase().split(/\s+/).filter(Boolean);
    void vscode.commands.executeCommand('setContext', 'recoveryPoints.filtered', this.active);
    this.changed.fire();
  }

  /** The points that pass, in their order. */
  async apply(points: readonly PointSummary[]): Promise<PointSummary[]> {
    const words = this.words;
    const shown: PointSummary[] = [];
    for (const point of points) {
      const heads = point.roots.map((r) => (r.head ? describeHead(r.head) : '')).join('\n');
      const about = `${point.label ?? ''}\n${point.summary}\n${TRIGGER_TERMS[point.trigger]}\n${point.actor}\n${heads}`.toLowerCase();
      const missing = words.filter((word) => !about.includes(word));
      if (missing.length === 0) {
        shown.push(point);
        continue;
      }
      const paths = await this.changedPaths(point, points);
      if (missing.every((word) => paths.includes(word))) shown.push(point);
    }
    this.applied.fire({ shown: shown.length, total: points.length });
    return shown;
  }

  /** The paths a point changed (added, modified, deleted), lower case, one a line. */
  private changedPaths(point: PointSummary, listed: readonly PointSummary[]): Promise<string> {
    // by the point it is against too: a clean-up that removes a point's parent changes its changes
    const key = `${point.id} ${pointBase(listed, point)?.id ?? ''}`;
    let paths = this.files.get(key);
    if (!paths) {
      paths = this.store.recovery.changedFiles(point.id, listed, { many: true }).then(
        (diff) => [...diff.added, ...diff.modified, ...diff.deleted].map((c) => c.path.toLowerCase()).join('\n'),
        (error: unknown) => {
          this.log.warn('view', `Could not list the files of point ${point.id} for the filter: ${describeCause(error)}`);
          this.files.delete(key);
          return '';
        },
      );
      this.files.set(key, paths);
    }
    return paths;
  }

  dispose(): void {
    this.changed.dispose();
    this.applied.dispose();
  }
}

/** Shows on the view whether a filter is on, and how many points it lets through. */
export function showFilterState(view: vscode.TreeView<unknown>, filter: PointsFilter): vscode.Disposable {
  const subscriptions = [
    filter.onDidChange(() => {
      if (!filter.active) view.message = undefined;
    }),
    filter.onDidApply(({ shown, total }) => {
      if (!filter.active) view.message = undefined;
      else view.message = shown === 0 ? `No point matches the filter "${filter.value}". Clear the filter to see all ${plural(total, 'point')}.` : `Filtered by "${filter.value}": ${shown} of ${plural(total, 'point')}.`;
    }),
  ];
  return vscode.Disposable.from(...subscriptions);
}
