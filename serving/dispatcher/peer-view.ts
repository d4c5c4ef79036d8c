// What other dispatchers tell this one about the groups they share (the messaging is peers.ts):
// their bookings, placed on our clocks at receipt (hosts' clocks differ; a note is under a
// millisecond old), and, for a newcomer, our whole view of every busy group.
import type { Logger } from '../../bus/index.js';
import type { PeerNote } from '../protocol/messages.js';
import type { GroupTable } from './groups.js';

/** A peer's view of a group further ahead than this is not believed (s): it would block the group. */
export const PEER_MAX_AHEAD = 300;

/** Applies another dispatcher's booking, or its view of a group (taken where it is ahead of ours). */
export function applyPeerNote(table: GroupTable, n: PeerNote, now: number, log: Logger): void {
  const g = table.get(n.group);
  if (!g || g.version !== n.version) return;
  if (n.kind === 'clocks') {
    const clocks = g.latency.clocks.clocks;
    if (n.ahead.length !== clocks.length || n.busyFor > PEER_MAX_AHEAD || n.ahead.some((a) => a > PEER_MAX_AHEAD)) {
      log.debug({ note: n }, 'ignoring an implausible peer view');
      return;
    }
    for (let k = 0; k < clocks.length; k++) clocks[k] = Math.max(clocks[k], now + n.ahead[k]);
    g.peerBusyUntil = Math.max(g.peerBusyUntil, now + n.busyFor);
    return;
  }
  if (!g.latency.hosts(n.model)) return;
  const exit = g.latency.commit(n.model, now) - g.latency.clocks.overhead;
  if (exit > g.peerBusyUntil) g.peerBusyUntil = exit;
}

/** Our view of every busy group of the placement in force, for the dispatcher `to` that has just appeared. */
export function clocksFor(table: GroupTable, to: string, now: number): PeerNote[] {
  const notes: PeerNote[] = [];
  for (const g of table.all()) {
    if (g.version !== table.version) continue;
    const clocks = g.latency.clocks;
    const busyUntil = Math.max(g.peerBusyUntil, clocks.lastStageFree);
    if (busyUntil <= now) continue; // idle: nothing to tell
    const ahead = Array.from(clocks.clocks, (c) => Math.max(0, c - now));
    notes.push({ kind: 'clocks', group: g.id, version: g.version, to, ahead, busyFor: busyUntil - now });
  }
  return notes;
}
