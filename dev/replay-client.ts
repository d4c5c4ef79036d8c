// Replays a workload against a running cluster through NATS in real time and records what came
// back, request by request; planner/fidelity.ts turns that into the simulator's result shape and
// the fidelity figures, so `meshserve replay` and `meshserve simulate` print the same report.
import { createInbox, type NatsConnection } from '@nats-io/transport-node';
import { decode, encode } from '../bus/index.js';
import {
  type LiveOutcomes,
  NO_GROUP,
  OTHER_GROUP,
  STATUS_ERROR,
  STATUS_NONE,
  STATUS_OK,
  STATUS_REJECTED,
} from '../planner/fidelity.js';
import type { Workload } from '../planner/types.js';
import { nowSeconds, sleepUntil } from '../serving/clock.js';
import { InferReply } from '../serving/protocol/messages.js';
import type { RuntimePlacement } from '../serving/protocol/placement.js';
import { RuntimeSubjects } from '../serving/protocol/subjects.js';

/** What each request of a replay got, in workload order. */
export interface LiveRecords extends Omit<LiveOutcomes, 'group'> {
  /** Group id that served (or rejected) each request. */
  readonly group: (string | undefined)[];
  /** The first few error reasons, with counts. */
  readonly errors: Map<string, number>;
  /** How late the sender was behind the schedule, worst case, seconds. */
  readonly maxSendLag: number;
}

/** The records with each group id as its index in `placement` (what the fidelity maths take). */
export function outcomesOn(live: LiveRecords, placement: Pick<RuntimePlacement, 'groups'>): LiveOutcomes {
  const index = new Map(placement.groups.map((g, i) => [g.id, i]));
  const group = Int32Array.from(live.group, (id) => (id === undefined ? NO_GROUP : (index.get(id) ?? OTHER_GROUP)));
  return { ...live, group };
}

export interface ReplayProgress {
  sent: number;
  total: number;
  ok: number;
  rejected: number;
  errors: number;
  inflight: number;
  elapsed: number;
}

export interface ReplayOptions {
  subjects?: RuntimeSubjects;
  /** Called about every `progressMs` (default 250). */
  onProgress?: (p: ReplayProgress) => void;
  progressMs?: number;
  /** After the last send, wait at most this long for replies (ms). Default 30 000. */
  drainTimeoutMs?: number;
  /** Stop sending early (e.g. on SIGINT). */
  signal?: AbortSignal;
}

/** Sends request i at start + arrival[i] to `ms.infer.<model>` and records the replies. */
export async function replayWorkload(
  nc: NatsConnection,
  w: Workload,
  options: ReplayOptions = {},
): Promise<LiveRecords> {
  const subjects = options.subjects ?? new RuntimeSubjects();
  const n = w.arrival.length;
  const status = new Uint8Array(n).fill(STATUS_NONE);
  const sentAt = new Float64Array(n).fill(NaN);
  const latency = new Float64Array(n).fill(NaN);
  const overModel = new Float64Array(n).fill(NaN);
  const observedArrival = new Float64Array(n).fill(NaN);
  const dispatcherTotal = new Float64Array(n).fill(NaN);
  const group: (string | undefined)[] = new Array(n);
  const errors = new Map<string, number>();
  const counts = { ok: 0, rejected: 0, errors: 0, answered: 0 };
  const inbox = createInbox();
  const prefixLength = inbox.length + 1;
  const start = nowSeconds() + 0.1;
  const sub = nc.subscribe(`${inbox}.*`, {
    callback: (err, msg) => {
      if (err) return;
      const received = nowSeconds();
      const i = Number.parseInt(msg.subject.slice(prefixLength), 36);
      if (!(i >= 0 && i < n) || status[i] !== STATUS_NONE) return;
      const parsed = InferReply.safeParse(decode(msg.data));
      counts.answered++;
      if (!parsed.success) {
        status[i] = STATUS_ERROR;
        counts.errors++;
        errors.set('malformed reply', (errors.get('malformed reply') ?? 0) + 1);
        return;
      }
      const r = parsed.data;
      group[i] = r.group;
      observedArrival[i] = r.timings.arrival / 1000 - start;
      latency[i] = received - (start + sentAt[i]);
      if (r.status === 'ok') {
        status[i] = STATUS_OK;
        if (r.timings.estimatedFinish !== undefined)
          overModel[i] = (r.timings.replied - r.timings.estimatedFinish) / 1000;
        dispatcherTotal[i] = r.timings.total / 1000;
        counts.ok++;
      } else if (r.status === 'rejected') {
        status[i] = STATUS_REJECTED;
        counts.rejected++;
      } else {
        status[i] = STATUS_ERROR;
        counts.errors++;
        const reason = (r.reason ?? 'error').replace(/[\d.]+ ms/g, '… ms').slice(0, 160);
        if (errors.size < 20 || errors.has(reason)) errors.set(reason, (errors.get(reason) ?? 0) + 1);
      }
    },
  });
  const modelSubjects = w.modelNames.map((m) => subjects.infer(m));
  let sent = 0;
  let maxSendLag = 0;
  const progress = (): void =>
    options.onProgress?.({
      sent,
      total: n,
      ok: counts.ok,
      rejected: counts.rejected,
      errors: counts.errors,
      inflight: sent - counts.answered,
      elapsed: nowSeconds() - start,
    });
  const progressTimer = options.onProgress ? setInterval(progress, options.progressMs ?? 250) : undefined;
  try {
    while (sent < n && !options.signal?.aborted) {
      const due = start + w.arrival[sent];
      const now = nowSeconds();
      if (due > now + 0.0002) {
        await sleepUntil(due);
        continue;
      }
      maxSendLag = Math.max(maxSendLag, now - due);
      sentAt[sent] = now - start;
      const slo = w.slo[sent];
      const body = Number.isFinite(slo) ? { id: String(sent), slo } : { id: String(sent) };
      nc.publish(modelSubjects[w.model[sent]], encode(body), { reply: `${inbox}.${sent.toString(36)}` });
      sent++;
    }
    // Interrupted: wait only briefly for what is in flight.
    const until = Date.now() + (options.signal?.aborted ? 1_000 : (options.drainTimeoutMs ?? 30_000));
    while (counts.answered < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  } finally {
    clearInterval(progressTimer);
    progress();
    sub.unsubscribe();
  }
  return { status, sentAt, latency, overModel, observedArrival, dispatcherTotal, group, errors, maxSendLag };
}
