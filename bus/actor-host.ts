#!/usr/bin/env node
// Entry point of an actor process: loads a module export, spawns it as an actor, serves until
// SIGTERM/SIGINT, then drains (every accepted message is answered) and exits 0.
//
//   node dist/bus/actor-host.js --module ./dist/my-actors/echo.js --export Echo --name echo
//
// Connection URLs come from NATS_URL / REDIS_URL. When forked by a Supervisor it reports
// `{ type: 'ready', id, name, pid }` over the IPC channel once the actor is ready.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from './log.js';
import { ActorSystem } from './system.js';

export interface HostReadyMessage {
  type: 'ready';
  id: string;
  name: string;
  pid: number;
}

/** Supervisor → host: report the process's memory, after a full GC if asked and it runs with --expose-gc. */
export interface HostMemoryRequest {
  type: 'memory';
  seq: number;
  gc: boolean;
}

/** Bytes, as `process.memoryUsage()`; `gc` says whether a full GC ran first. */
export interface ProcessMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  gc: boolean;
}

export interface HostMemoryReply {
  type: 'memory';
  seq: number;
  memory: ProcessMemory;
}

export type HostMessage = HostReadyMessage | HostMemoryReply;

function memoryNow(collect: boolean): ProcessMemory {
  const gc = collect ? (globalThis as { gc?: () => void }).gc : undefined;
  gc?.();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, gc: gc !== undefined };
}

const USAGE =
  'usage: actor-host --module <path> [--export <name>] --name <actor> [--args <json array>] [--concurrency <n>] [--prefix <p>] [--heartbeat-interval-ms <ms>] [--heartbeat-ttl-ms <ms>] [--no-registry] [--replaces <id of a dead incarnation>]';

function intOption(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${what} must be a positive integer, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      module: { type: 'string' },
      export: { type: 'string', default: 'default' },
      name: { type: 'string' },
      args: { type: 'string', default: '[]' },
      concurrency: { type: 'string' },
      prefix: { type: 'string' },
      'heartbeat-interval-ms': { type: 'string' },
      'heartbeat-ttl-ms': { type: 'string' },
      'no-registry': { type: 'boolean', default: false },
      replaces: { type: 'string' },
    },
  });
  if (!values.module || !values.name) throw new Error(USAGE);
  const ctorArgs: unknown = JSON.parse(values.args ?? '[]');
  if (!Array.isArray(ctorArgs)) throw new Error('--args must be a JSON array');

  const mod = (await import(pathToFileURL(resolve(values.module)).href)) as Record<string, unknown>;
  const exported = mod[values.export ?? 'default'];
  if (exported === undefined) throw new Error(`module ${values.module} has no export "${values.export}"`);
  // A class is instantiated with --args; an object is used as the actor itself.
  const instance =
    typeof exported === 'function'
      ? new (exported as new (...a: unknown[]) => object)(...ctorArgs)
      : (exported as object);

  const system = await ActorSystem.connect({
    name: `actor-host:${values.name}`,
    prefix: values.prefix,
    registry: !values['no-registry'],
    heartbeat: {
      heartbeatIntervalMs: intOption(values['heartbeat-interval-ms'], 'heartbeat-interval-ms'),
      heartbeatTtlMs: intOption(values['heartbeat-ttl-ms'], 'heartbeat-ttl-ms'),
    },
  });
  const actor = await system.spawn(values.name, instance, {
    concurrency: intOption(values.concurrency, 'concurrency'),
    replaces: values.replaces,
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    actor.log.info({ signal }, 'draining on signal');
    system.close().then(
      () => process.exit(0),
      (err: unknown) => {
        actor.log.error({ err }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // The supervisor going away (IPC closed) means nobody will stop us: drain and leave.
  process.on('disconnect', () => shutdown('disconnect'));

  process.on('message', (msg: HostMemoryRequest) => {
    if (msg?.type === 'memory')
      process.send?.({ type: 'memory', seq: msg.seq, memory: memoryNow(msg.gc) } satisfies HostMemoryReply);
  });
  const ready: HostReadyMessage = { type: 'ready', id: actor.id, name: actor.name, pid: process.pid };
  process.send?.(ready);
}

main().catch((err: unknown) => {
  createLogger().fatal({ err }, 'actor host failed');
  process.exit(1);
});
