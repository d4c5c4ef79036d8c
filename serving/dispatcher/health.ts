// Announcing a mesh group's routing state: `ms.events.group.out` when it leaves routing (a device
// lost, or "no responders" on a stage) and `.in` when it comes back. The state itself is derived
// by the GroupTable; this only notices its changes.
import type { Logger } from '../../bus/index.js';
import type { GroupEvent } from '../protocol/messages.js';
import type { GroupTable, MeshGroup } from './groups.js';

/** Longest a group stays out of routing after repeated "no responders" before it is tried again (s). */
export const MAX_BACKOFF = 5;

export interface GroupHealthOptions {
  /** This dispatcher's id, in the events. */
  dispatcher: string;
  log: Logger;
  publish(event: GroupEvent): void;
}

export class GroupHealth {
  constructor(
    private readonly table: GroupTable,
    private readonly o: GroupHealthOptions,
  ) {}

  /** New groups whose device is already known lost start out of routing. */
  placed(fresh: readonly MeshGroup[]): void {
    for (const g of fresh)
      if (this.table.hasLostDevice(g)) this.#out(g, `device ${this.table.lostDevices(g).join(', ')} lost`);
  }

  /** Takes every group with `device` out of routing; returns them. */
  deviceLost(device: string, reason: string): readonly MeshGroup[] {
    const wasOut = this.table.groupsOf(device).map((g) => this.table.isOut(g));
    const hit = this.table.deviceLost(device, reason);
    hit.forEach((g, i) => {
      if (!wasOut[i]) this.#out(g, reason);
    });
    return hit;
  }

  /** `device` answers again: its groups come back unless something else keeps them out. */
  deviceBack(device: string, now: number): void {
    const wasOut = new Map(this.table.groupsOf(device).map((g) => [g, this.table.isOut(g)]));
    for (const g of this.table.deviceBack(device)) if (this.table.routable(g, now)) this.#in(g, wasOut.get(g) ?? false);
  }

  /**
   * A stage of `g` had no responders: out of routing for a back-off (doubling while it repeats).
   * Returns whether this started a back-off (the caller then pings the group's devices).
   */
  noResponders(g: MeshGroup, now: number, minBackoff: number): boolean {
    if (now < g.retryAt) return false;
    const wasOut = this.table.isOut(g);
    g.backoff = Math.min(MAX_BACKOFF, Math.max(minBackoff, 2 * g.backoff));
    g.retryAt = now + g.backoff;
    if (!wasOut) this.#out(g, `a stage of group ${g.id} has no responders`);
    return true;
  }

  /** A routable group is about to be routed to: one whose back-off is over is back in routing. */
  readmit(g: MeshGroup): void {
    if (g.retryAt > 0) this.#in(g, true);
  }

  #out(g: MeshGroup, reason: string): void {
    this.o.log.warn({ group: g.id, reason }, 'group taken out of routing');
    this.#publish({
      kind: 'group.out',
      group: g.id,
      version: g.version,
      dispatcher: this.o.dispatcher,
      reason,
      at: Date.now(),
    });
  }

  /** Back in routing (its back-off, if any, is over); announced when it was out. */
  #in(g: MeshGroup, wasOut: boolean): void {
    g.retryAt = 0;
    if (!wasOut) return;
    this.o.log.info({ group: g.id }, 'group back in routing');
    this.#publish({ kind: 'group.in', group: g.id, version: g.version, dispatcher: this.o.dispatcher, at: Date.now() });
  }

  #publish(event: GroupEvent): void {
    try {
      this.o.publish(event);
    } catch (err) {
      this.o.log.warn({ err }, 'could not publish a group event');
    }
  }
}
