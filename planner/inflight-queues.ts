// In-flight request counts per group, for the fewest-in-flight dispatch policy.

/**
 * Per-group FIFO of accepted requests' finish times, to count in-flight requests. Finishes on one
 * group are non-decreasing in acceptance order (each passes the same last stage after the one
 * before), so retiring from the head is exact. Grows only with the peak in-flight count.
 */
export class InflightQueues {
  /** Group g's ring occupies ring[g·capacity .. (g+1)·capacity); capacity is a power of two. */
  private ring: Float64Array;
  private capacity = 64;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;

  constructor(private readonly groups: number) {
    this.ring = new Float64Array(groups * this.capacity);
    this.head = new Int32Array(groups);
    this.tail = new Int32Array(groups);
  }

  /** Requests on group g still unfinished at time t (retiring those finished by t). */
  inflight(g: number, t: number): number {
    const ring = this.ring;
    const mask = this.capacity - 1;
    const base = g * this.capacity;
    let head = this.head[g];
    const tail = this.tail[g];
    while (head !== tail && ring[base + (head & mask)] <= t) head++;
    this.head[g] = head;
    return tail - head;
  }

  push(g: number, finish: number): void {
    if (this.tail[g] - this.head[g] === this.capacity) this.grow();
    const tail = this.tail[g];
    this.ring[g * this.capacity + (tail & (this.capacity - 1))] = finish;
    this.tail[g] = tail + 1;
  }

  /** Doubles every group's ring, unwrapping each queue to the start of its new region. */
  private grow(): void {
    const old = this.ring;
    const oldCap = this.capacity;
    const cap = oldCap * 2;
    const ring = new Float64Array(this.groups * cap);
    for (let g = 0; g < this.groups; g++) {
      const head = this.head[g];
      const tail = this.tail[g];
      for (let k = head; k !== tail; k++) ring[g * cap + (k - head)] = old[g * oldCap + (k & (oldCap - 1))];
      this.head[g] = 0;
      this.tail[g] = tail - head;
    }
    this.ring = ring;
    this.capacity = cap;
  }
}
