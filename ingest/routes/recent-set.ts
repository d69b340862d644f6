// RecentSet: the `max` most recently added strings — an LRU set with lru-cache's semantics for
// has/add (`has` does not refresh, `add` of a present key makes it the most recent one), kept
// small on purpose: it is on ingest's per-event path (the duplicate check of design §3) and
// lru-cache's general machinery (options objects, TTL and status checks on every call) cost
// about a third of the time of the check itself.
//
// Recency is a doubly linked list over slot indices in two typed arrays, so adding, refreshing
// and evicting are O(1) and allocate nothing; `index` maps each key to its slot.
export class RecentSet {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  /** Slot of the previous (older) / next (more recent) key, -1 at the ends. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** Least recently added slot (evicted first) and most recently added one. */
  private oldest = -1;
  private newest = -1;

  constructor(private readonly max: number) {
    if (!(max >= 1)) throw new Error('RecentSet needs max ≥ 1');
    this.prev = new Int32Array(max);
    this.next = new Int32Array(max);
  }

  get size(): number {
    return this.index.size;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** Adds `key` as the most recent one; when full, the least recent one is dropped. */
  add(key: string): void {
    let slot = this.index.get(key);
    if (slot !== undefined) {
      if (slot !== this.newest) {
        this.unlink(slot);
        this.append(slot);
      }
      return;
    }
    if (this.keys.length < this.max) {
      slot = this.keys.length;
      this.keys.push(key);
    } else {
      slot = this.oldest;
      this.index.delete(this.keys[slot]);
      this.unlink(slot);
      this.keys[slot] = key;
    }
    this.index.set(key, slot);
    this.append(slot);
  }

  private unlink(slot: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p === -1) this.oldest = n;
    else this.next[p] = n;
    if (n === -1) this.newest = p;
    else this.prev[n] = p;
  }

  private append(slot: number): void {
    this.prev[slot] = this.newest;
    this.next[slot] = -1;
    if (this.newest === -1) this.oldest = slot;
    else this.next[this.newest] = slot;
    this.newest = slot;
  }
}
