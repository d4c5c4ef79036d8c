// Malformed messages for the fuzz test, drawn from a seeded Rng: random bytes, wrong types, huge
// strings, unknown models and actors, negative SLOs, bad headers and broken internal messages, for
// the public subject and every control subject. Each case is malformed by construction (never a
// request, call, placement or report a component should act on).
import type { MsgHdrs } from '@nats-io/transport-node';
import { encode, jsonContentHeaders } from '../../bus/index.js';
import type { Rng } from '../../planner/rng.js';
import type { RuntimePlacement } from '../../serving/protocol/placement.js';
import type { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { int, pick, randomBytes, token, weirdHeaders } from './fuzz-random.js';

export type FuzzTarget = 'infer' | 'actor' | 'placement' | 'stage' | 'sync' | 'dispatch' | 'peers';

export interface FuzzCase {
  readonly target: FuzzTarget;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs;
  readonly what: string;
  /** False when nobody subscribes to the subject (only the server can answer: "no responders"). */
  readonly served?: false;
}

export interface FuzzContext {
  readonly subjects: RuntimeSubjects;
  /** The model served, its placement, and the dispatcher's id (completion subjects). */
  readonly model: string;
  readonly placement: RuntimePlacement;
  readonly dispatcherId: string;
  /** Actor names of the cluster; calls also go to names nobody serves. */
  readonly actors: readonly string[];
}

const text = new TextEncoder();

/** Request bodies that fail InferRequest (wrong types, bad SLOs, oversized ids). */
const BAD_BODIES: ReadonlyArray<(rng: Rng) => unknown> = [
  (r) => ({ id: int(r, -5, 5) }),
  (r) => ({ slo: pick(r, ['1', 'fast', '', null, [1], { s: 1 }]) }),
  (r) => ({ slo: -r.next() * 10 - 1e-9 }),
  () => ({ slo: 0 }),
  () => ({ slo: Number.NaN }),
  () => ({ slo: Number.POSITIVE_INFINITY }),
  () => ({ id: '' }),
  (r) => ({ id: 'x'.repeat(int(r, 257, 4_000)) }),
  (r) => ({ id: 'h'.repeat(int(r, 100_000, 300_000)), slo: 1 }),
  (r) => ({ id: { nested: int(r, 0, 9) } }),
  () => [1, 2, 3],
  (r) => 'a string '.repeat(int(r, 1, 50)),
  (r) => int(r, -1e6, 1e6),
  () => true,
  (r) => ({ input: 1, slo: String(r.next()) }),
];

function inferCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const served = ctx.subjects.infer(ctx.model);
  switch (int(rng, 0, 6)) {
    case 0:
      return { target: 'infer', subject: served, data: randomBytes(rng, 200), what: 'random bytes' };
    case 1:
    case 2: {
      const body = pick(rng, BAD_BODIES)(rng);
      return { target: 'infer', subject: served, data: encode(body), what: 'wrong types / bad SLO / huge id' };
    }
    case 3:
      return {
        target: 'infer',
        subject: ctx.subjects.infer(`${token(rng, 'nope')}${rng.next() < 0.3 ? '.v2' : ''}`),
        data: encode({ id: token(rng, 'u'), slo: 1 }),
        what: 'unknown model',
      };
    case 4:
      return {
        target: 'infer',
        subject: served,
        data: text.encode(
          pick(rng, ['{"id": ', '{"slo": -1}', '[', 'null]', '{"id": 5}', '{"slo": "1"}', '\u0000\u0001']),
        ),
        headers: jsonContentHeaders(),
        what: 'bad JSON',
      };
    case 5:
      return {
        target: 'infer',
        subject: served,
        data: randomBytes(rng, 40),
        headers: jsonContentHeaders(),
        what: 'msgpack-ish bytes declared JSON',
      };
    default:
      return {
        target: 'infer',
        subject: served,
        data: randomBytes(rng, 40),
        headers: weirdHeaders(rng),
        what: 'odd headers',
      };
  }
}

/** Arguments each method's schema rejects (the call must never act). */
const BAD_ARGS: Record<string, ReadonlyArray<unknown[]>> = {
  replace: [[5], [{}], ['a', 'b'], [null]],
  configure: [['x'], [5], [[1]], [{ strategy: 5 }], [{ rateCheckSec: -1 }], [{ models: 'a' }], []],
  current: [[1], ['x']],
  stats: [[1], [{}]],
  status: [[{}], [0]],
  assign: [[5], [{ version: 'x' }], [], [null]],
};

function actorCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const ghost = rng.next() < 0.1;
  const name = ghost ? token(rng, 'ghost') : pick(rng, ctx.actors);
  const method =
    rng.next() < 0.7
      ? pick(rng, Object.keys(BAD_ARGS))
      : pick(rng, [token(rng, 'm'), '_private', 'onStart', 'onStop', 'constructor']);
  const base = {
    target: 'actor' as const,
    subject: `${ctx.subjects.prefix}.actor.${name}.${method}`,
    ...(ghost ? { served: false as const } : {}),
  };
  switch (int(rng, 0, 4)) {
    case 0:
      return { ...base, data: randomBytes(rng), what: 'random bytes' };
    case 1:
      return {
        ...base,
        data: encode(pick(rng, [{}, { args: 'x' }, { args: { 0: 1 } }, [1], 'args', 7])),
        what: 'not a call envelope',
      };
    case 2:
      return { ...base, data: text.encode('{"args": [1,'), headers: jsonContentHeaders(), what: 'bad JSON' };
    default: {
      const args = BAD_ARGS[method] ? pick(rng, BAD_ARGS[method]) : [int(rng, 0, 9)];
      return { ...base, data: encode({ args }), what: 'wrong arguments / unknown method' };
    }
  }
}

function placementCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const subject = ctx.subjects.placement;
  const p = ctx.placement;
  switch (int(rng, 0, 3)) {
    case 0:
      return { target: 'placement', subject, data: randomBytes(rng, 300), what: 'random bytes' };
    case 1:
      return {
        target: 'placement',
        subject,
        data: encode(
          pick(rng, [
            { ...p, version: 'x' },
            { ...p, groups: 5 },
            { ...p, profiles: ['x'] },
            { ...p, version: -1 },
            { version: p.version + 1 },
          ]),
        ),
        what: 'wrong types',
      };
    case 2: {
      // Passes the schema, fails the consistency check: a device in two groups.
      const groups = p.groups.map((g, i) =>
        i !== 1
          ? g
          : {
              ...g,
              devices: g.devices.map((row, k) => (k === 0 ? [p.groups[0].devices[0][0], ...row.slice(1)] : row)),
            },
      );
      return {
        target: 'placement',
        subject,
        data: encode({ ...p, version: p.version + int(rng, 1, 1000), groups }),
        what: 'device in two groups',
      };
    }
    default: {
      const groups = p.groups.map((g) => ({ ...g, devices: g.devices.slice(0, Math.max(0, g.devices.length - 1)) }));
      return {
        target: 'placement',
        subject,
        data: encode({ ...p, version: p.version + int(rng, 1, 1000), groups }),
        what: 'device grid not pp × op',
      };
    }
  }
}

function stageCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const unknownGroup = rng.next() < 0.1;
  const g = pick(rng, ctx.placement.groups);
  const subject = unknownGroup
    ? ctx.subjects.stage(token(rng, 'vX'), 0)
    : ctx.subjects.stage(g.id, int(rng, 0, g.config.pp - 1));
  const base = { target: 'stage' as const, subject, ...(unknownGroup ? { served: false as const } : {}) };
  const done = ctx.subjects.completion(ctx.dispatcherId, 'x');
  switch (int(rng, 0, 2)) {
    case 0:
      return { ...base, data: randomBytes(rng, 200), what: 'random bytes' };
    case 1:
      return {
        ...base,
        data: encode(
          pick(rng, [
            { rid: 5 },
            { rid: 'r', model: ctx.model },
            {},
            [1],
            { rid: 'r', model: ctx.model, group: 'g', stage: -1, done },
          ]),
        ),
        what: 'wrong types',
      };
    default:
      return {
        ...base,
        data: encode({
          rid: 'r',
          model: ctx.model,
          group: 'g',
          stage: 0,
          done: pick(rng, ['', 'a b', 'x.>', 'x..y', '.x', 'ms.*.y']),
        }),
        what: 'unpublishable completion subject',
      };
  }
}

function syncCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const sharded = ctx.placement.groups.find((g) => g.config.op > 1)!;
  const subject = ctx.subjects.stageSync(sharded.id, 0);
  const op = sharded.config.op;
  switch (int(rng, 0, 2)) {
    case 0:
      return { target: 'sync', subject, data: randomBytes(rng), what: 'random bytes' };
    case 1:
      return {
        target: 'sync',
        subject,
        data: encode({
          rid: token(rng, 's'),
          shard: pick(rng, [0, op, op + int(rng, 1, 50), -1]),
          start: 1,
          finish: 2,
        }),
        what: 'shard out of range',
      };
    default:
      return {
        target: 'sync',
        subject,
        data: encode(pick(rng, [{ rid: 1 }, { shard: 1 }, { rid: 'x', shard: 1, start: 'a', finish: 2 }, null])),
        what: 'wrong types',
      };
  }
}

function dispatchCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const unknownDispatcher = rng.next() < 0.2;
  const id = unknownDispatcher ? token(rng, 'D') : ctx.dispatcherId;
  const base = {
    target: 'dispatch' as const,
    subject: ctx.subjects.completion(id, int(rng, 0, 3000).toString(36)),
    ...(unknownDispatcher ? { served: false as const } : {}),
  };
  return rng.next() < 0.5
    ? { ...base, data: randomBytes(rng), what: 'random bytes' }
    : {
        ...base,
        data: encode(pick(rng, [{ rid: 1 }, { ok: 'yes' }, { rid: 'r', group: 'g', ok: true }, [], 'done'])),
        what: 'wrong types',
      };
}

/** Broken dispatcher peer notes: not a batch, notes of unknown kinds, wrong types, a `late` of no time. */
function peersCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const subject = ctx.subjects.dispatchPeers;
  const g = ctx.placement.groups[0];
  const note = { kind: 'booked', group: g.id, version: ctx.placement.version, model: ctx.model, at: 1 };
  return rng.next() < 0.4
    ? { target: 'peers', subject, data: randomBytes(rng), what: 'random bytes' }
    : {
        target: 'peers',
        subject,
        what: 'wrong types',
        data: encode(
          pick(rng, [
            { from: 'x' },
            { notes: [note] },
            { from: 'x', notes: [{ ...note, kind: 'moved' }] },
            { from: 'x', notes: [{ ...note, at: 'now' }] },
            { from: 'x', notes: [{ ...note, kind: 'late', by: -1 }] },
            { from: 5, notes: [] },
            [note],
            'notes',
          ]),
        ),
      };
}

const TARGETS: ReadonlyArray<[FuzzTarget, number, (rng: Rng, ctx: FuzzContext) => FuzzCase]> = [
  ['infer', 0.35, inferCase],
  ['actor', 0.25, actorCase],
  ['placement', 0.1, placementCase],
  ['stage', 0.15, stageCase],
  ['sync', 0.05, syncCase],
  ['dispatch', 0.05, dispatchCase],
  ['peers', 0.05, peersCase],
];

/** One malformed message for a target drawn by weight. */
export function fuzzCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  let u = rng.next();
  for (const [, weight, make] of TARGETS) {
    u -= weight;
    if (u < 0) return make(rng, ctx);
  }
  return TARGETS[0][2](rng, ctx);
}

/** A header block nats.js cannot parse (a space in a header name): only a raw client can send it. */
export function brokenHeaderBlock(rng: Rng): string {
  return pick(rng, [
    'NATS/1.0\r\nBad Key: v\r\n\r\n',
    'NATS/1.0\r\n\u0001: x\r\n\r\n',
    'NATS/1.0\r\nA:B\r\nC D: e\r\n\r\n',
  ]);
}
