// Correcting a group's clocks from its completions. A request that exits later than estimated by
// more than the model's fixed overhead allowance (which already covers the hops) shifts the
// group's future clocks by the excess; lateness within the allowance is expected and left alone,
// so that the dispatcher's clocks stay the simulator's. A group with nothing left in flight (here
// or, by their bookings, at other dispatchers) is pulled back to "idle now".
import type { MeshGroup } from './groups.js';

/** What was estimated for a request when it was booked. */
export interface Booking {
  /** Estimated exit of the last stage (epoch s, without the fixed overhead). */
  readonly estimatedExit: number;
  /** The group's total shift at booking time. */
  readonly shiftAtCommit: number;
}

/**
 * A request booked as `booking` left the last stage at `actualExit`; `g` has already released it.
 * `held`: its work waited in an outbox during a NATS outage, so its lateness is the outage's, not
 * the group's, and moves no clock.
 */
export function correctFromCompletion(
  g: MeshGroup,
  booking: Booking,
  actualExit: number,
  now: number,
  held = false,
): void {
  const clocks = g.latency.clocks;
  const late = actualExit - (booking.estimatedExit + (g.shift - booking.shiftAtCommit)) - clocks.overhead;
  if (late > 0 && !held && (g.inflight > 0 || g.peerBusyUntil > now)) shiftClocks(g, late, now);
  if (g.inflight === 0 && now >= g.peerBusyUntil) clocks.idleAt(now);
}

/** Moves the group's future clocks (and what other dispatchers booked there) by `by` seconds. */
export function shiftClocks(g: MeshGroup, by: number, now: number): void {
  const clocks = g.latency.clocks.clocks;
  for (let k = 0; k < clocks.length; k++) if (clocks[k] > now) clocks[k] += by;
  g.shift += by;
  if (g.peerBusyUntil > now) g.peerBusyUntil += by;
}
