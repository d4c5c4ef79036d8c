// Bad input: thousands of seeded malformed messages to the public subject and to every control
// subject (actor calls, placements, stage work, shard reports, completions), some with header
// blocks nats.js itself cannot parse, interleaved with good requests. No process crashes, every
// malformed message with a reply subject is answered with a clear error (or "no responders" where
// nobody serves the subject), every good request is served, and the placement in force is untouched.
// (The server sends "no responders" to the publisher's own connection only, so the raw client's
// messages to subjects nobody serves cannot be answered at all; those are sent but not expected.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createInbox, type Msg } from '@nats-io/transport-node';
import { decode, isNoResponders, safeEncodingOf } from '../../bus/index.js';
import { Rng } from '../../planner/rng.js';
import { testProfile } from '../serving/helpers.js';
import { brokenHeaderBlock, type FuzzContext, type FuzzTarget, fuzzCase } from './fuzz-cases.js';
import { LoadClient, type ProcessCluster, sleep, startProcessCluster, statusCounts, until } from './helpers.js';
import { RawPublisher } from './raw-publisher.js';

const SEED = 20240607;
const MALFORMED = 3_000;
const GOOD_EVERY = 10; // one good request per 10 malformed messages
const WAVE = 200;

/** Undefined when `msg` is a clear error: "no responders", or an error reply of the runtime's own formats. */
function notAClearError(msg: Msg): string | undefined {
  if (isNoResponders(msg)) return undefined;
  let body: unknown;
  try {
    body = decode(msg.data, safeEncodingOf(msg));
  } catch (err) {
    return `undecodable reply: ${(err as Error).message}`;
  }
  const b = body as { status?: unknown; reason?: unknown; ok?: unknown; error?: unknown } | null;
  const message = typeof b?.error === 'string' ? b.error : (b?.error as { message?: unknown } | undefined)?.message;
  const inferError = b?.status === 'error' && typeof b.reason === 'string' && b.reason.length > 0;
  const envelopeError = b?.ok === false && typeof message === 'string' && message.length > 0;
  return inferError || envelopeError ? undefined : `not an error: ${JSON.stringify(body)?.slice(0, 200)}`;
}

describe('reliability: bad input fuzz', () => {
  let c: ProcessCluster;
  before(async () => {
    c = await startProcessCluster({
      workers: 4,
      profiles: [testProfile('m', 0.01)],
      planner: {
        strategy: 'static',
        groups: [
          { config: { pp: 2, op: 1 }, models: ['m'] },
          { config: { pp: 1, op: 2 }, models: ['m'] },
        ],
      },
    });
  });
  after(() => c?.close());

  it(`${MALFORMED} malformed messages: no crash, each with a reply subject gets a clear error, good requests all served`, {
    timeout: 90_000,
  }, async (t) => {
    const placement = (await c.planner.call('current'))!;
    const ctx: FuzzContext = {
      subjects: c.subjects,
      model: 'm',
      placement,
      dispatcherId: (await c.dispatcher.call('stats')).dispatcher,
      actors: ['planner', 'dispatcher', 'gpu-0', 'gpu-1', 'gpu-2', 'gpu-3'],
    };
    const rng = new Rng(SEED);
    const inbox = createInbox();
    const verdicts = new Map<number, Array<string | undefined>>();
    const cases: Array<{ target: FuzzTarget; what: string; raw: boolean }> = [];
    const sub = c.client.subscribe(`${inbox}.*`, {
      callback: (err, msg) => {
        if (!err) verdicts.get(Number(msg.subject.slice(inbox.length + 1)))?.push(notAClearError(msg));
      },
    });
    const good = new LoadClient(c.client, c.subjects, 'good');
    const raw = await RawPublisher.connect(c.servers.nats.port);
    t.after(() => {
      good.close();
      raw.close();
      sub.unsubscribe();
    });
    const started = Date.now();
    let withoutReply = 0;
    for (let n = 0; n < MALFORMED; n++) {
      if (n % GOOD_EVERY === 0) good.send({ model: 'm', slo: 2 });
      const fc = fuzzCase(rng, ctx);
      const reply = `${inbox}.${n}`;
      const useRaw = rng.next() < 0.07;
      if (!useRaw && rng.next() < 0.1) {
        withoutReply++;
        c.client.publish(fc.subject, fc.data, { headers: fc.headers }); // a "tell": nothing to answer, nothing may break
        continue;
      }
      if (!(useRaw && fc.served === false)) verdicts.set(n, []);
      cases[n] = { target: fc.target, what: fc.what, raw: useRaw };
      if (useRaw) raw.publish(fc.subject, reply, brokenHeaderBlock(rng), fc.data);
      else c.client.publish(fc.subject, fc.data, { reply, headers: fc.headers });
      if ((n + 1) % WAVE === 0) {
        // Bounded pace: let the wave be answered before the next (at most 2 s).
        const wave = [...verdicts.entries()].filter(([k]) => k > n - WAVE);
        await until('the wave to be answered', () => wave.every(([, v]) => v.length > 0), 2_000, 10).catch(
          () => undefined,
        );
      }
    }
    await until(
      'every malformed message to be answered',
      () => [...verdicts.values()].every((v) => v.length > 0),
      5_000,
      20,
    ).catch(() => undefined);
    await good.settle(5_000);
    const fuzzMs = Date.now() - started;
    await sleep(500); // late or duplicate answers

    const byTarget = new Map<string, { sent: number; answered: number; bad: number }>();
    const unanswered: string[] = [];
    const unclear: string[] = [];
    for (const [n, v] of verdicts) {
      const k = cases[n];
      const key = `${k.target}${k.raw ? ' (broken headers)' : ''}`;
      const row = byTarget.get(key) ?? byTarget.set(key, { sent: 0, answered: 0, bad: 0 }).get(key)!;
      row.sent++;
      if (v.length) row.answered++;
      else unanswered.push(`${n} ${key}: ${k.what}`);
      for (const problem of v)
        if (problem) {
          row.bad++;
          unclear.push(`${n} ${key}: ${k.what}: ${problem}`);
        }
    }
    const goodCounts = statusCounts(good.records.values());
    console.log(
      `# fuzz (seed ${SEED}): ${MALFORMED} malformed messages (${withoutReply} without a reply subject) and ${good.records.size} good requests in ${(fuzzMs / 1000).toFixed(1)} s; ` +
        `per target sent/answered/not a clear error: ${[...byTarget].map(([k, r]) => `${k} ${r.sent}/${r.answered}/${r.bad}`).join(', ')}; good ${JSON.stringify(goodCounts)}`,
    );

    assert.deepEqual(unanswered.slice(0, 10), [], `${unanswered.length} malformed messages without an answer`);
    assert.deepEqual(unclear.slice(0, 10), [], `${unclear.length} answers that are not a clear error`);
    assert.deepEqual(
      goodCounts,
      { ok: good.records.size, rejected: 0, error: 0, noResponders: 0, none: 0 },
      'every good request served',
    );
    // Nobody crashed or changed: same processes, same placement, still serving.
    for (const name of ctx.actors) {
      assert.equal(c.child(name).state, 'running', `${name} running`);
      assert.equal(c.child(name).restarts, 0, `${name} never restarted`);
      assert.equal((await c.system.actor(name).ping()).state, 'ready', `${name} answers`);
    }
    assert.equal((await c.planner.call('current'))!.version, placement.version, 'the placement in force is untouched');
    assert.equal((await c.dispatcher.call('stats')).placementVersion, placement.version);
    const after = new LoadClient(c.client, c.subjects, 'after');
    t.after(() => after.close());
    for (let i = 0; i < 50; i++) after.send({ model: 'm', slo: 2 });
    await after.settle(5_000, 0);
    assert.deepEqual(statusCounts(after.records.values()), { ok: 50, rejected: 0, error: 0, noResponders: 0, none: 0 });
  });
});
