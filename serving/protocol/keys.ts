// Redis keys of the runtime's cluster state (docs/protocol.md lists them all).

/** Redis keys of the runtime's cluster state (all readable with redis-cli). */
export class RuntimeKeys {
  constructor(readonly prefix: string = 'ms') {}
  /** HASH: a GPU worker's device: id, memoryBytes, executor, host, pid, registeredAt (TTL, refreshed). */
  device(id: string): string {
    return `${this.prefix}:device:${id}`;
  }
  /** STRING: JSON ModelProfile (planner/profile.ts format). */
  profile(model: string): string {
    return `${this.prefix}:profile:${model}`;
  }
  profilePattern(): string {
    return `${this.prefix}:profile:*`;
  }
  /** STRING: observed request rate of a model, req/s (written by the dispatcher, with a TTL). */
  rate(model: string): string {
    return `${this.prefix}:rate:${model}`;
  }
  /** STRING: JSON RuntimePlacement of one version. */
  placement(version: number): string {
    return `${this.prefix}:placement:${version}`;
  }
  /** STRING: JSON of the placement in force. */
  currentPlacement(): string {
    return `${this.prefix}:placement:current`;
  }
  /**
   * STRING: JSON RuntimePlacement of the last placement the planner made anew (not one the adaptive
   * strategy switched to): adaptive AlpaServe's starting placement, which it may go back to.
   */
  homePlacement(): string {
    return `${this.prefix}:placement:home`;
  }
  /** STRING: JSON `{ at, reason, error }` of the planner's last failed attempt; deleted when one succeeds. */
  placementError(): string {
    return `${this.prefix}:placement:error`;
  }
  /**
   * STRING: the dispatcher that answers request `origin` of dispatcher `owner` on a path other
   * than the owner's own completion (a timeout, a retry, an orphan). SET NX: exactly one does.
   */
  claim(owner: string, origin: string): string {
    return `${this.prefix}:claim:${owner}:${origin}`;
  }
  /** Counter INCRed for each new placement version. */
  placementVersion(): string {
    return `${this.prefix}:placement:version`;
  }
}
