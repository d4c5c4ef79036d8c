// Actor processes for the serving benchmarks: each actor in its own `bus/actor-host.js` child
// (no registry: no Redis needed), and a placement handed to the GPU workers directly (assign,
// then publish), as the planner would.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { encode } from '../../bus/index.js';
import { RuntimeSubjects, type RuntimePlacement } from '../../actors/protocol.js';

const hostScript = fileURLToPath(new URL('../../bus/actor-host.js', import.meta.url));
const actorModule = (file: string) => fileURLToPath(new URL(`../../actors/${file}`, import.meta.url));

/** Forks `script` and resolves once it reports ready over IPC. */
export function startChild(script: string, args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(script, args, { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** One actor of `actors/<file>` (export `exportName`, constructor arguments `args`) in its own process. */
export function startActorProcess(name: string, file: string, exportName: string, args: unknown[], env: Record<string, string>): Promise<ChildProcess> {
  return startChild(hostScript, ['--module', actorModule(file), '--export', exportName, '--name', name, '--args', JSON.stringify(args), '--no-registry'], env);
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
export async function placeDirectly(nc: NatsConnection, placement: RuntimePlacement, timeoutMs = 60_000): Promise<void> {
  const devices = [...new Set(placement.groups.flatMap((g) => g.devices.flat()))];
  await Promise.all(devices.map((d) => nc.request(`ms.actor.${d}.assign`, encode({ args: [placement] }), { timeout: timeoutMs })));
  nc.publish(new RuntimeSubjects().placement, encode(placement));
  await nc.flush();
  await new Promise((r) => setTimeout(r, 200)); // the dispatcher switches to it
}
