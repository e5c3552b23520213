import * as vscode from 'vscode';
import { formatRelativeTime } from '../../core/format';
import { pointIdTime } from '../../core';
import type { PointsModel } from '../pointsModel';

/** "$(history) 2 min ago": the newest point; a click reveals the view. */
export class RecoveryStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('recoveryPoints.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly model: PointsModel,
    private readonly automatic: () => boolean,
  ) {
    this.item.name = 'Recovery Points';
    this.item.command = 'workbench.view.extension.recoveryPoints';
    this.subscription = model.onDidChange(() => this.update());
    this.update();
    this.item.show();
  }

  update(): void {
    const newest = this.model.points[0];
    const auto = this.automatic();
    this.item.text = `$(${auto ? 'history' : 'circle-slash'}) ${newest ? formatRelativeTime(pointIdTime(newest.id)) : 'no points'}`;
    this.item.tooltip = newest
      ? `Newest recovery point: ${newest.label ?? newest.summary} (${new Date(pointIdTime(newest.id)).toLocaleString()})${auto ? '' : '\nAutomatic recovery points are off.'}`
      : 'No recovery points yet';
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
