// Actor processes for the serving benchmarks: each actor in its own `bus/actor-host.js` child
// (no registry: no Redis needed), and a placement handed to the GPU workers directly (assign,
// then publish), as the planner would.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { encode } from '../bus/index.js';
import { ACTOR_MODULES, type ActorRole } from '../serving/actor-modules.js';
import type { RuntimePlacement } from '../serving/protocol/placement.js';
import { RuntimeSubjects } from '../serving/protocol/subjects.js';

const hostScript = fileURLToPath(new URL('../bus/actor-host.js', import.meta.url));

/** Forks `script` and resolves once it reports ready over IPC. */
export function startChild(script: string, args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(script, args, {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** One serving actor (constructor arguments `args`) in its own process. */
export function startActorProcess(
  name: string,
  role: ActorRole,
  args: unknown[],
  env: Record<string, string>,
): Promise<ChildProcess> {
  const { module, exportName } = ACTOR_MODULES[role];
  return startChild(
    hostScript,
    ['--module', module, '--export', exportName, '--name', name, '--args', JSON.stringify(args), '--no-registry'],
    env,
  );
}

/** SIGTERM to every child still running; resolves when all have exited. */
export async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null) return resolve(undefined);
          c.once('exit', resolve);
          c.kill('SIGTERM');
        }),
    ),
  );
}

/** Every device of the placement loads its stages (assign), then the placement is published. */
export async function placeDirectly(
  nc: NatsConnection,
  placement: RuntimePlacement,
  timeoutMs = 60_000,
): Promise<void> {
  const devices = [...new Set(placement.groups.flatMap((g) => g.devices.flat()))];
  await Promise.all(
    devices.map((d) => nc.request(`ms.actor.${d}.assign`, encode({ args: [placement] }), { timeout: timeoutMs })),
  );
  nc.publish(new RuntimeSubjects().placement, encode(placement));
  await nc.flush();
  await new Promise((r) => setTimeout(r, 200)); // the dispatcher switches to it
}
