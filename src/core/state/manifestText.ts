import { documentText } from '../documents';
import { snapshotDocument, type ContextSnapshot } from '../schemas';
import { isPointId, isPointSummary } from './pointSummaryCheck';

/**
 * A point's manifest as the text `snapshotDocument` writes, checked as its schema checks it, without
 * zod's pass over every manifest: zod's check of a small manifest cost ~0.6 ms of a one-file point
 * (measured in the point, against 0.06 ms for the text alone). The summary is checked by hand
 * (`isPointSummary`, held to the schema by its tests); the state by zod, unless it is the state zod
 * last accepted as it is (nothing stripped, nothing defaulted) but for the newest point's id, which
 * changes with every point and is checked by hand: a process's points mostly carry the same state.
 * Whatever either check is unsure of goes through zod whole, which refuses it in words or strips extras.
 */
export class ManifestText {
  /** The text of the last state zod accepted unchanged. */
  private acceptedState: string | undefined;

  of(snapshot: ContextSnapshot): string {
    const { state, ...summary } = snapshot;
    // the newest point's id changes with every point: checked by hand, the rest compared
    const { newestPointId, ...rest } = state;
    const restText = JSON.stringify(rest);
    if (restText === this.acceptedState && (newestPointId === null || isPointId(newestPointId)) && isPointSummary(summary)) return documentText(snapshotDocument, snapshot, { trusted: true });
    const text = documentText(snapshotDocument, snapshot, {});
    this.acceptedState = JSON.stringify((JSON.parse(text) as ContextSnapshot).state) === JSON.stringify(state) ? restText : undefined;
    return text;
  }
}
