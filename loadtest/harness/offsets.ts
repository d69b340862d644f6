// Consumer-group progress read with the kafkajs admin: how far a group has committed against the
// end of its topic. The processors' throughput is timed from these (the harness cannot see
// inside the processors child).
import type { Admin } from 'kafkajs';

export interface Progress {
  committed: number;
  end: number;
}

/** Sum over partitions of the committed offsets (−1 = nothing committed counts as 0) and of the log ends. */
export async function groupProgress(admin: Admin, groupId: string, topic: string): Promise<Progress> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const low = new Map(ends.map((p) => [p.partition, Number(p.low)]));
  return {
    end: ends.reduce((a, p) => a + Number(p.high) - Number(p.low), 0),
    committed: (committed?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset) - (low.get(p.partition) ?? 0)), 0),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the group has committed everything in the topic; returns the wait in ms. */
export async function waitCaughtUp(admin: Admin, groupId: string, topic: string, timeoutMs: number, onProgress?: (p: Progress) => void): Promise<number> {
  const started = Date.now();
  let lastReport = 0;
  for (;;) {
    const p = await groupProgress(admin, groupId, topic);
    if (p.committed >= p.end) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`group ${groupId} still ${p.end - p.committed} messages behind on ${topic} after ${timeoutMs} ms`);
    if (onProgress && Date.now() - lastReport >= 2000) {
      lastReport = Date.now();
      onProgress(p);
    }
    await sleep(100);
  }
}

/** The moment the group first reports state Stable (joined, partitions assigned). */
export async function waitGroupStable(admin: Admin, groupId: string, timeoutMs: number, alive: () => boolean): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`consumer of group ${groupId} exited`);
    const { groups } = await admin.describeGroups([groupId]);
    if (groups[0]?.state === 'Stable') return Date.now();
    await sleep(100);
  }
  throw new Error(`group ${groupId} did not become Stable within ${timeoutMs} ms`);
}
