// kafkajs 2.2.4 keeps every broker connection in a 1 ms timer loop for as long as it lives
// (kafkajs issues #1556, #1604, #1704; fixes proposed in PRs #1572 and #1667, unmerged — kafkajs has
// had no release since 2.2.4). RequestQueue.scheduleCheckPendingRequests arms a timer even when
// nothing is pending, with a negative delay (`throttledUntil` is -1 when not throttled), so Node
// fires it after 1 ms; the timer calls checkPendingRequests, which schedules the next one.
// Measured here: ~5 % of a core per idle service (ingest, processors, api each), and ~1,000 timer
// callbacks a second per connection taken from the event loop under load.
//
// The replacement arms the timer only while requests wait in the queue: at the end of the
// client-side throttle, or after the library's 10 ms interval when that end already passed (the
// case kafkajs PR #1532 fixed in 2.2.4: a request must never be left waiting). Requests held back
// by the in-flight bound are sent when a response arrives (fulfillRequest → checkPendingRequests),
// as before. Applied once per process by createKafka, only to the kafkajs version it was written
// for; any other version is left as it is.
import { kafkajsIsPatchedVersion, kafkajsModule } from './kafkajs.ts';

/** The part of kafkajs' RequestQueue the replacement touches (src/network/requestQueue/index.js). */
export interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs' CHECK_PENDING_REQUESTS_INTERVAL (not exported). */
export const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/** scheduleCheckPendingRequests without the idle loop: a timer only while something is pending. */
export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}

/** kafkajs' RequestQueue class, from the same file (so the same module instance) kafkajs itself loads. */
export function kafkajsRequestQueue(): { prototype?: Partial<RequestQueueLike> } {
  return kafkajsModule<{ prototype?: Partial<RequestQueueLike> }>('src/network/requestQueue/index.js');
}

let applied: boolean | undefined;

/** Replaces RequestQueue.prototype.scheduleCheckPendingRequests in the kafkajs this process loads; true when it did. */
export function fixKafkajsRequestQueue(): boolean {
  if (applied !== undefined) return applied;
  applied = false;
  // Another kafkajs may have fixed the loop, or moved the file: then nothing is touched.
  if (!kafkajsIsPatchedVersion) return applied;
  const { prototype } = kafkajsRequestQueue();
  if (typeof prototype?.scheduleCheckPendingRequests !== 'function') return applied;
  prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  return (applied = true);
}
