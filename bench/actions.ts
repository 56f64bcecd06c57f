/**
 * Temporal Cloud billable actions, counted from event histories as Temporal documents them
 * (docs.temporal.io/cloud/actions): a workflow start (client, child, continue-as-new), each
 * activity attempt, the local activities of one workflow task together, each timer started,
 * each search-attribute upsert (not the TemporalChangeVersion one that patches add), each signal
 * and each accepted update. Heartbeats that reach the server and queries are actions too but
 * leave no event; the bench names them beside the figure instead of guessing them.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActionCount {
  total: number;
  byKind: Record<string, number>;
}

const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
const CHANGE_VERSION = 'TemporalChangeVersion';

export function countActions(events: HistoryEvent[]): ActionCount {
  const byKind: Record<string, number> = {};
  const add = (kind: string, n = 1) => (byKind[kind] = (byKind[kind] ?? 0) + n);
  const localActivityTasks = new Set<string>();
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes) add('workflow started');
    else if (e.activityTaskStartedEventAttributes)
      add('activity attempts', e.activityTaskStartedEventAttributes.attempt ?? 1);
    else if (e.timerStartedEventAttributes) add('timers');
    else if (e.workflowExecutionSignaledEventAttributes) add('signals');
    else if (e.workflowExecutionUpdateAcceptedEventAttributes) add('updates');
    else if (e.upsertWorkflowSearchAttributesEventAttributes) {
      const fields = Object.keys(
        e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {},
      );
      if (fields.some((f) => f !== CHANGE_VERSION)) add('search-attribute upserts');
    } else if (e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) {
      localActivityTasks.add(String(e.markerRecordedEventAttributes.workflowTaskCompletedEventId ?? ''));
    }
  }
  if (localActivityTasks.size > 0) add('local activities (per workflow task)', localActivityTasks.size);
  return { total: Object.values(byKind).reduce((a, b) => a + b, 0), byKind };
}

export function sumActions(counts: ActionCount[]): ActionCount {
  const byKind: Record<string, number> = {};
  for (const c of counts) for (const [k, n] of Object.entries(c.byKind)) byKind[k] = (byKind[k] ?? 0) + n;
  return { total: Object.values(byKind).reduce((a, b) => a + b, 0), byKind };
}
