// docker-compose.cluster.yml: three nats-servers with the same users and permissions, routes
// with a password, and every meshserve service given all three servers as its own user. The
// resolved nats commands are also run here for real (container names and ports mapped to free
// loopback ports): the servers form a cluster, a route without the password is refused, and
// a user's rights are the same on each server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { freePort, type LocalServer, startNatsServer } from '../../dev/servers.js';
import { CLUSTER_USERS, passwordVariable } from '../../ops/access.js';
import { until } from '../helpers/until.js';
import { type ComposeService, readComposeServices } from './compose-reader.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const NATS = ['nats', 'nats-2', 'nats-3'];
const USERS: Record<string, string> = {
  planner: 'planner',
  dispatcher: 'dispatcher',
  worker: 'worker',
  repl: 'admin',
  profile: 'admin',
  status: 'admin',
};

function resolved(): ComposeService[] {
  const r = spawnSync(
    'docker-compose',
    [
      '-f',
      join(root, 'docker-compose.yml'),
      '-f',
      join(root, 'docker-compose.cluster.yml'),
      '--profile',
      'tools',
      'config',
    ],
    { encoding: 'utf8', cwd: root, env: { ...process.env, COMPOSE_PROJECT_NAME: 'meshserve-test' } },
  );
  if (r.error) assert.fail(`docker-compose not runnable (${r.error.message}); run scripts/ensure-servers.sh`);
  assert.equal(r.status, 0, r.stderr);
  return readComposeServices(r.stdout);
}

const started: LocalServer[] = [];
after(async () => {
  await Promise.all(started.map((s) => s.close()));
});

test('three nats services with one config; every meshserve service lists all three as its user', () => {
  const services = resolved();
  const nats = NATS.map((n) => services.find((s) => s.name === n));
  assert.ok(nats.every(Boolean), 'nats, nats-2 and nats-3');
  const names = nats.map((s) => s!.command[s!.command.indexOf('-n') + 1]);
  assert.equal(new Set(names).size, 3, `server names ${names.join(', ')}`);
  for (const s of nats) {
    assert.deepEqual(s!.command.slice(0, 2), ['-c', '/etc/nats/nats-server.conf'], s!.name);
    assert.ok(s!.command.includes('-js'), `${s!.name}: JetStream`);
    assert.match(s!.command[s!.command.indexOf('--cluster') + 1], /^nats:\/\/route:[^@]+@0\.0\.0\.0:6222$/);
    const routes = s!.command[s!.command.indexOf('--routes') + 1].split(',');
    assert.deepEqual(
      routes.map((r) => new URL(r).hostname).sort(),
      NATS.filter((n) => n !== s!.name),
      `${s!.name} routes to the others`,
    );
  }
  for (const [service, user] of Object.entries(USERS)) {
    const url = services.find((s) => s.name === service)?.environment.NATS_URL ?? '';
    const servers = url.split(',').map((u) => new URL(u));
    assert.deepEqual(
      servers.map((u) => `${u.username}@${u.hostname}:${u.port}`),
      NATS.map((n) => `${user}@${n}:4222`),
      `${service}: ${url}`,
    );
  }
});

test('the resolved nats commands form a cluster with route authentication and the same rights', {
  timeout: 60_000,
}, async () => {
  const nats = NATS.map((n) => resolved().find((s) => s.name === n)!);
  const ports = await Promise.all(NATS.map(async () => ({ client: await freePort(), route: await freePort() })));
  const http = await Promise.all(NATS.map(() => freePort()));
  // As compose runs them, but on loopback: container names and ports → free local ports, the
  // config file and the store → local ones (startNatsServer adds address, port, store, monitoring).
  const env = Object.fromEntries(CLUSTER_USERS.map((u) => [passwordVariable(u), `pw-${u}`]));
  const local = (value: string, i: number): string =>
    value
      .replace('@0.0.0.0:6222', `@127.0.0.1:${ports[i].route}`)
      .replace(/@(nats(?:-[23])?):6222/g, (_, host: string) => `@127.0.0.1:${ports[NATS.indexOf(host)].route}`);
  for (let i = 0; i < 3; i++) {
    const command = nats[i].command;
    const dropped = new Set(['-c', '-sd', '-m']);
    const extraArgs = command
      .filter((a, k) => !dropped.has(a) && !dropped.has(command[k - 1]) && a !== '-js')
      .map((a) => local(a, i));
    assert.equal(command[command.indexOf('-c') + 1], '/etc/nats/nats-server.conf');
    started.push(
      await startNatsServer({
        port: ports[i].client,
        httpPort: http[i],
        jetstream: command.includes('-js'),
        configFile: join(root, 'deploy/nats-server.conf'),
        env,
        extraArgs,
      }),
    );
  }
  await until(
    'every server routed to the two others',
    async () => {
      const routes = await Promise.all(
        http.map((p) =>
          fetch(`http://127.0.0.1:${p}/routez`)
            .then((r) => r.json() as Promise<{ num_routes: number }>)
            .then((z) => z.num_routes)
            .catch(() => 0),
        ),
      );
      return routes.every((n) => n === 2);
    },
    20_000,
    100,
  );
  // A route without the password is refused: a fourth server that tries stays alone.
  const intruderHttp = await freePort();
  const intruder = await startNatsServer({
    httpPort: intruderHttp,
    cluster: { name: 'meshserve', port: await freePort(), routes: [`nats://127.0.0.1:${ports[0].route}`] },
  });
  started.push(intruder);
  await new Promise((r) => setTimeout(r, 1_500));
  const intruderRoutes = (
    (await (await fetch(`http://127.0.0.1:${intruderHttp}/routez`)).json()) as { num_routes: number }
  ).num_routes;
  assert.equal(intruderRoutes, 0, 'a route without the password joined');
  // The client user: requests allowed, placements refused, on every server.
  for (let i = 0; i < 3; i++) {
    const nc = await connect({ servers: `127.0.0.1:${ports[i].client}`, user: 'client', pass: 'pw-client' });
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error?.message ?? s.error));
    })();
    nc.publish('ms.infer.m', 'x');
    nc.publish('ms.placement', 'x');
    await nc.flush().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    await nc.close();
    assert.equal(errors.length, 1, `server ${i + 1}: ${errors.join('; ')}`);
    assert.match(errors[0], /publish.*ms\.placement/i);
  }
});
