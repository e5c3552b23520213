import * as vscode from 'vscode';
import { formatRelativeTime } from '../../core/format';
import { pointTime } from '../../core';
import type { AutoCapture } from '../automatic/autoCapture';
import type { PointsModel } from '../pointsModel';

/**
 * "$(history) 2 min ago": the newest point; a click reveals the view. While changes wait for their
 * point (the merge window), "$(history) pending…", and a click makes that point now.
 */
export class RecoveryStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('recoveryPoints.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly model: PointsModel,
    private readonly automatic: () => boolean,
    private readonly auto?: Pick<AutoCapture, 'pending' | 'onDidChangePending'>,
  ) {
    this.item.name = 'Recovery Points';
    this.subscriptions = [model.onDidChange(() => this.update())];
    if (auto) this.subscriptions.push(auto.onDidChangePending(() => this.update()));
    this.update();
    this.item.show();
  }

  /** What the item shows now (for the tests). */
  get state(): { readonly text: string; readonly tooltip: string; readonly command: string } {
    return { text: this.item.text, tooltip: String(this.item.tooltip ?? ''), command: typeof this.item.command === 'string' ? this.item.command : (this.item.command?.command ?? '') };
  }

  update(): void {
    const pending = this.auto?.pending;
    if (pending) {
      this.item.text = '$(history) pending\u2026';
      this.item.tooltip = `Changes to ${pending.files} ${pending.files === 1 ? 'file wait' : 'files wait'} for their recovery point (saves in quick succession become one point).\nClick to create it now.`;
      this.item.command = 'recoveryPoints.createPending';
      return;
    }
    const newest = this.model.points[0];
    const auto = this.automatic();
    this.item.command = 'workbench.view.extension.recoveryPoints';
    this.item.text = `$(${auto ? 'history' : 'circle-slash'}) ${newest ? formatRelativeTime(pointTime(newest)) : 'no points'}`;
    this.item.tooltip = newest
      ? `Newest recovery point: ${newest.label ?? newest.summary} (${new Date(pointTime(newest)).toLocaleString()})${auto ? '' : '\nAutomatic recovery points are off.'}`
      : 'No recovery points yet';
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
