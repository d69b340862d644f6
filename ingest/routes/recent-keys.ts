// RecentKeys: the event ids ingest acknowledged lately (events.ts keeps one per app), so a re-post
// is answered as a duplicate (design §3; downstream sinks collapse event_ids anyway, this only
// saves the send).
//
// Two generations of Sets instead of an LRU: an LRU's per-key recency bookkeeping and eviction
// cost ~7 % of ingest's CPU with 100-event batches (profile of the batch load test), while here a
// lookup is one or two Set probes and an add one Set insert; when the current generation is full
// it becomes the previous one and the older one is dropped whole. So the last `generation` keys
// added are always remembered, and at most 2 × `generation`.
//
// Almost every key looked up is new, and a miss probed both Sets of 100–200k entries, each probe
// missing the CPU caches (~1.1 µs per event in ingest's profile, 6.5 % of its CPU). So each
// generation also keeps a one-hash Bloom filter of its keys (2^21 bits, 256 KiB: ~5 % of new keys
// hit a set bit with 100k keys): a key whose bits are clear in both filters is not in either Set
// and the Sets are not probed. A set bit only sends the lookup to the Sets as before, so answers
// stay exact, and keys made to share bits cost no more Set probes than without the filters.
export class RecentKeys {
  private current = new Set<string>();
  private previous = new Set<string>();
  private currentBits: Int32Array;
  private previousBits: Int32Array;
  private readonly mask: number;

  /** `filterBits`: bits per generation's filter, a power of two ≥ 32 (small ones only in tests). */
  constructor(
    private readonly generation: number,
    filterBits = 1 << 21,
  ) {
    if (!(generation >= 1)) throw new Error(`RecentKeys: generation must be ≥ 1, got ${generation}`);
    if (!(filterBits >= 32 && (filterBits & (filterBits - 1)) === 0)) throw new Error(`RecentKeys: filterBits must be a power of two ≥ 32, got ${filterBits}`);
    this.mask = filterBits - 1;
    this.currentBits = new Int32Array(filterBits >>> 5);
    this.previousBits = new Int32Array(filterBits >>> 5);
  }

  has(key: string): boolean {
    const bit = hash(key) & this.mask;
    const word = bit >>> 5;
    const flag = 1 << (bit & 31);
    if ((this.currentBits[word] & flag) !== 0 && this.current.has(key)) return true;
    return (this.previousBits[word] & flag) !== 0 && this.previous.has(key);
  }

  add(key: string): void {
    if (this.current.size >= this.generation) {
      this.previous = this.current;
      this.current = new Set();
      const bits = this.previousBits;
      this.previousBits = this.currentBits;
      this.currentBits = bits.fill(0);
    }
    const bit = hash(key) & this.mask;
    this.currentBits[bit >>> 5] |= 1 << (bit & 31);
    this.current.add(key);
  }

  /** Keys held now (between the last `generation` added and 2 × `generation`). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** FNV-1a over the UTF-16 code units, 32 bits, high half folded in (the low bits index the filter). */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 16)) >>> 0;
}
