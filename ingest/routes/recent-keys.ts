// RecentKeys: the event ids ingest acknowledged lately (events.ts keeps one per app), so a re-post
// is answered as a duplicate (design §3; downstream sinks collapse event_ids anyway, this only
// saves the send).
//
// Two generations of Sets instead of an LRU: an LRU's per-key recency bookkeeping and eviction
// cost ~7 % of ingest's CPU with 100-event batches (profile of the batch load test), while here a
// lookup is one or two Set probes and an add one Set insert; when the current generation is full
// it becomes the previous one and the older one is dropped whole. So the last `generation` keys
// added are always remembered, and at most 2 × `generation`.
export class RecentKeys {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly generation: number) {
    if (!(generation >= 1)) throw new Error(`RecentKeys: generation must be ≥ 1, got ${generation}`);
  }

  has(key: string): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  add(key: string): void {
    if (this.current.size >= this.generation) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(key);
  }

  /** Keys held now (between the last `generation` added and 2 × `generation`). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
