// `npm run bench -- bus`: actor call round trips vs raw NATS request/reply, same run, loopback.
//
// Both sides run on a private nats-server started here. Modes:
//   raw      nats.js `request()` against a plain echo subscription (the standard API);
//   raw-mux  the same echo through the bus's Requester (one inbox subscription, no per-call
//            Error objects) with pre-encoded bytes: raw NATS with the framework's transport;
//   actor    `handle.call('echo', payload)` on an actor: encoding, envelope, mailbox, reply.
// For each mode:
//   - throughput: closed loop with `--window` calls in flight for `--duration-ms`, calls/s;
//   - latency: paced open loop at `--rate` calls/s for `--duration-ms`, p50/p99 of round trips
//     (measured from the actual send; pacing uses a 1 ms timer).
// Rounds alternate the modes so machine noise hits all alike; medians over rounds are printed,
// and the throughput ratio is the median of per-round ratios.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ActorSystem, CallEnvelope, connectNats, decode, encode } from '../bus/index.js';
import { Requester } from '../bus/requester.js';
import { setUpProcess } from '../config/environment.js';
import { TOOL_LOG_LEVEL } from '../config/tools.js';
import { startNatsServer } from '../dev/servers.js';
import { median, quantileSorted as percentile, closedLoopThroughput as throughput } from './measure.js';

type CallFn = () => Promise<unknown>;

class Echo {
  echo(value: unknown): unknown {
    return value;
  }
}

async function pacedLatency(
  call: CallFn,
  rate: number,
  durationMs: number,
): Promise<{ p50: number; p99: number; n: number }> {
  const total = Math.floor((rate * durationMs) / 1000);
  const latencies = new Float64Array(total);
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const i = sent;
      const start = performance.now();
      inflight.push(
        call().then(() => {
          latencies[i] = performance.now() - start;
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  latencies.sort();
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), n: total };
}

/**
 * Why the actor checks its call envelope by hand: ns per decode+check of a typical envelope,
 * with the zod schema vs the structural check the runtime uses.
 */
function envelopeCheckCost(payload: unknown): { zodNs: number; structuralNs: number } {
  const bytes = encode({ args: [payload] });
  const iterations = 200_000;
  const time = (check: (v: unknown) => boolean): number => {
    let ok = 0;
    const start = performance.now();
    for (let i = 0; i < iterations; i++) if (check(decode(bytes))) ok++;
    if (ok !== iterations) throw new Error('envelope check failed');
    return ((performance.now() - start) * 1e6) / iterations;
  };
  const zod = (v: unknown): boolean => CallEnvelope.safeParse(v).success;
  const structural = (v: unknown): boolean => !!v && Array.isArray((v as { args?: unknown }).args);
  time(zod);
  time(structural); // warm-up
  return { zodNs: time(zod), structuralNs: time(structural) };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'duration-ms': { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '5' },
      rate: { type: 'string', default: '1000' },
      window: { type: 'string', default: '32' },
    },
  });
  const durationMs = Number(values['duration-ms']);
  const rounds = Number(values.rounds);
  const rate = Number(values.rate);
  const window = Number(values.window);
  for (const [k, v] of Object.entries({ durationMs, rounds, rate, window })) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${k} must be a positive number`);
  }
  const { log } = setUpProcess(TOOL_LOG_LEVEL);

  const server = await startNatsServer();
  const rawServer = await connectNats({ url: server.url });
  const rawClient = await connectNats({ url: server.url });
  const host = await ActorSystem.connect({ natsUrl: server.url, registry: false, log });
  const client = await ActorSystem.connect({ natsUrl: server.url, registry: false, log });
  try {
    const payload = { model: 'bert-1.3b', id: '01JD5Z6X6X6X6X6X6X6X6X6X6X', tokens: 128 };
    const rawPayload = new TextEncoder().encode(JSON.stringify(payload));
    rawServer.subscribe('bench.raw', {
      callback: (_err, msg) => {
        msg.respond(msg.data);
      },
    });
    await rawServer.flush();
    await host.spawn('bench-echo', new Echo());
    const echo = client.actor<Echo>('bench-echo');

    const rawMux = new Requester(rawClient);
    const modes = {
      raw: () => rawClient.request('bench.raw', rawPayload, { timeout: 5_000 }),
      'raw-mux': () => rawMux.request('bench.raw', rawPayload, undefined, 5_000),
      actor: () => echo.call('echo', payload),
    } satisfies Record<string, CallFn>;
    type Mode = keyof typeof modes;
    const names = Object.keys(modes) as Mode[];
    // warm-up (JIT, connection buffers)
    for (const mode of names) await throughput(modes[mode], window, 300);

    const results = Object.fromEntries(
      names.map((m) => [m, { tput: [] as number[], p50: [] as number[], p99: [] as number[] }]),
    ) as Record<Mode, { tput: number[]; p50: number[]; p99: number[] }>;
    for (let r = 0; r < rounds; r++) {
      for (const mode of names) results[mode].tput.push(await throughput(modes[mode], window, durationMs));
      for (const mode of names) {
        const lat = await pacedLatency(modes[mode], rate, durationMs);
        results[mode].p50.push(lat.p50);
        results[mode].p99.push(lat.p99);
      }
    }

    console.log(
      `nats-server on loopback; ${rounds} alternating rounds of ${durationMs} ms per mode; medians over rounds`,
    );
    console.log(`throughput: closed loop, ${window} calls in flight; latency: open loop paced at ${rate} calls/s`);
    console.log('mode       calls/s   p50 ms   p99 ms');
    for (const mode of names) {
      const m = results[mode];
      console.log(
        `${mode.padEnd(8)} ${median(m.tput).toFixed(0).padStart(9)}  ${median(m.p50).toFixed(3).padStart(7)}  ${median(m.p99).toFixed(3).padStart(7)}`,
      );
    }
    const ratio = (base: Mode) => median(results.actor.tput.map((t, i) => t / results[base].tput[i]));
    console.log(`actor / raw throughput:     ${(ratio('raw') * 100).toFixed(1)}% (target >= 70%)`);
    console.log(
      `actor / raw-mux throughput: ${(ratio('raw-mux') * 100).toFixed(1)}% (framework overhead on the same transport)`,
    );
    console.log(`actor p99 at ${rate} calls/s: ${median(results.actor.p99).toFixed(3)} ms (target < 2 ms)`);
    const envelope = envelopeCheckCost(payload);
    console.log(
      `call envelope decode+check: zod ${envelope.zodNs.toFixed(0)} ns, structural ${envelope.structuralNs.toFixed(0)} ns (the runtime uses the structural check)`,
    );
  } finally {
    await client.close();
    await host.close();
    await rawClient.close();
    await rawServer.close();
    await server.close();
  }
}
