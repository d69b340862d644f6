// The replacement for kafkajs' RequestQueue.scheduleCheckPendingRequests (request-queue-fix.ts):
// a timer only while requests wait, at the end of a client-side throttle or after 10 ms.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CHECK_PENDING_REQUESTS_INTERVAL_MS, scheduleCheckPendingRequests, type RequestQueueLike } from './request-queue-fix.ts';

function queue(pending: number, throttledUntil = -1): RequestQueueLike & { checks: number } {
  const q = {
    pending: Array.from({ length: pending }, (_, i) => i),
    throttledUntil,
    throttleCheckTimeoutId: null as NodeJS.Timeout | null,
    checks: 0,
    // As kafkajs: send what may be sent, then schedule again.
    checkPendingRequests() {
      q.checks++;
      if (q.throttledUntil <= Date.now()) q.pending = [];
      q.scheduleCheckPendingRequests();
    },
    scheduleCheckPendingRequests,
  };
  return q;
}

describe('scheduleCheckPendingRequests without the idle loop', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('arms no timer when nothing is pending (kafkajs 2.2.4 re-armed a 1 ms timer forever)', () => {
    const q = queue(0);
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    vi.advanceTimersByTime(1000);
    expect(q.checks).toBe(0);
  });

  it('checks pending requests after the interval when not throttled, then stops once they are sent', () => {
    const q = queue(2);
    q.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(CHECK_PENDING_REQUESTS_INTERVAL_MS - 1);
    expect(q.checks).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.checks).toBe(1);
    expect(q.pending).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(q.checks).toBe(1);
  });

  it('waits for the end of a client-side throttle, and a throttle already over still gets its check', () => {
    const q = queue(1, Date.now() + 250);
    q.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(249);
    expect(q.checks).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.checks).toBe(1);
    expect(q.pending).toEqual([]);

    // kafkajs PR #1532: a throttle that ended between push and schedule must not strand the request.
    const late = queue(1, Date.now());
    late.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(CHECK_PENDING_REQUESTS_INTERVAL_MS);
    expect(late.checks).toBe(1);
    expect(late.pending).toEqual([]);
  });

  it('does not arm a second timer while one is armed', () => {
    const q = queue(3);
    q.scheduleCheckPendingRequests();
    const first = q.throttleCheckTimeoutId;
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBe(first);
    vi.advanceTimersByTime(CHECK_PENDING_REQUESTS_INTERVAL_MS);
    expect(q.checks).toBe(1);
  });
});
