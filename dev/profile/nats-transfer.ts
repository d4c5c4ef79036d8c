// What moving a tensor costs on a real NATS connection, in the runtime's own messages: the
// activation hop between stages (a StageWork, encoded, published, received, decoded and
// validated on another connection) and the all-gather of a sharded segment (every shard's
// StagePartial to every other shard). The profiler adds these to the measured compute.
import type { NatsConnection } from '@nats-io/transport-node';
import { decode, encode, newId, parseOrThrow } from '../../bus/index.js';
import type { TensorSpec } from '../../modelgen/tensor-spec.js';
import { median } from '../../planner/stats.js';
import { StagePartial, StageWork } from '../../serving/protocol/messages.js';
import { parseWireTensor, type WireTensor } from '../../serving/protocol/tensor.js';

export interface TransferOptions {
  /** Opens one NATS connection (each shard and each stage is its own process in the runtime). */
  connect: () => Promise<NatsConnection>;
  runs: number;
  warmup: number;
}

/** Runs `once` warmup + runs times, one after another; median milliseconds of the measured runs. */
async function timed(once: () => Promise<void>, o: TransferOptions): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < o.warmup + o.runs; i++) {
    const start = performance.now();
    await once();
    if (i >= o.warmup) times.push(performance.now() - start);
  }
  return median(times);
}

async function withConnections<T>(
  n: number,
  o: TransferOptions,
  use: (conns: NatsConnection[]) => Promise<T>,
): Promise<T> {
  const conns: NatsConnection[] = [];
  try {
    for (let i = 0; i < n; i++) conns.push(await o.connect());
    return await use(conns);
  } finally {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  }
}

/** Median ms from encoding a stage message carrying `tensor` to the next stage holding it, validated. */
export function measureHop(tensor: WireTensor, spec: TensorSpec, o: TransferOptions): Promise<number> {
  return measureStageHop(tensor, (input) => parseWireTensor(input, spec), o);
}

/**
 * Median ms from encoding a stage message carrying `input` to the next stage holding it, checked
 * by `check` as the receiving stage checks it.
 */
export function measureStageHop(input: unknown, check: (input: unknown) => void, o: TransferOptions): Promise<number> {
  return withConnections(2, o, async ([from, to]) => {
    const subject = `_profile.${newId()}.hop`;
    let arrived: (() => void) | undefined;
    const sub = to.subscribe(subject, {
      callback: (_err, msg) => {
        // Checked as the runtime checks it: decoding and validation are part of the cost.
        check(parseOrThrow(StageWork, decode(msg.data), 'stage work').input);
        arrived?.();
      },
    });
    await to.flush();
    try {
      return await timed(async () => {
        const done = new Promise<void>((resolve) => (arrived = resolve));
        const work: StageWork = {
          rid: 'profile',
          model: 'profile',
          group: 'profile',
          stage: 1,
          input,
          done: 'profile.done',
        };
        from.publish(subject, encode(work));
        await done;
      }, o);
    } finally {
      sub.unsubscribe();
    }
  });
}

/**
 * Median ms of one all-gather among `shards` connections: each publishes its partial on its own
 * subject, which the others subscribe to (as the runtime does), and the gather ends when every
 * shard holds every other shard's partial, decoded and validated. All
 * shards share this process's one thread here, so their encoding and decoding add up: an upper
 * bound of what one shard waits on its own device.
 */
export function measureAllGather(
  shards: number,
  partial: WireTensor,
  spec: TensorSpec,
  o: TransferOptions,
): Promise<number> {
  if (shards < 2) return Promise.resolve(0);
  return withConnections(shards, o, async (conns) => {
    const id = newId();
    const subject = (shard: number) => `_profile.${id}.reduce.${shard}`;
    let pending = 0;
    let gathered: (() => void) | undefined;
    const subs = conns.flatMap((c, shard) =>
      conns.flatMap((_, peer) =>
        peer === shard
          ? []
          : [
              c.subscribe(subject(peer), {
                callback: (_err, msg) => {
                  parseWireTensor(parseOrThrow(StagePartial, decode(msg.data), 'stage partial').partial, spec);
                  if (--pending === 0) gathered?.();
                },
              }),
            ],
      ),
    );
    await Promise.all(conns.map((c) => c.flush()));
    try {
      return await timed(async () => {
        pending = shards * (shards - 1);
        const done = new Promise<void>((resolve) => (gathered = resolve));
        conns.forEach((c, shard) => {
          c.publish(subject(shard), encode({ rid: 'profile', segment: 0, shard, partial } satisfies StagePartial));
        });
        await done;
      }, o);
    } finally {
      for (const s of subs) s.unsubscribe();
    }
  });
}
