// `meshserve start` supervises its own servers: a nats-server (or redis-server) child killed
// with SIGKILL is started again on the same port, and start says so; every actor reconnects by
// itself and serving resumes. Without it the cluster would stay up but deaf for as long as it runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, decode, encode } from '../../bus/index.js';
import { InferReply } from '../../serving/protocol/messages.js';
import { until } from '../helpers/until.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');

/** Child processes of `ppid` whose command is `name`, with their arguments. */
function children(ppid: number, name: string): Array<{ pid: number; args: string[] }> {
  const out: Array<{ pid: number; args: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== ppid || comm !== name) continue;
      out.push({ pid: Number(entry), args: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function served(nc: NatsConnection, model: string, id: string): Promise<boolean> {
  try {
    const msg = await nc.request(`ms.infer.${model}`, encode({ id, input: 'x', slo: 10 }), { timeout: 1_000 });
    return InferReply.parse(decode(msg.data)).status === 'ok';
  } catch {
    return false;
  }
}

test('start: a killed nats-server is restarted on its port, said so, and serving resumes', {
  timeout: 120_000,
}, async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'error' };
  delete env.NATS_URL;
  delete env.REDIS_URL;
  const child = spawn(process.execPath, [cli, 'start', '--workers', '2', '--demo-seconds', '0', '--duration', '60'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const nats = () => children(child.pid!, 'nats-server');
  // On a failure: Ctrl-C (start stops its servers), and what is left by PID (its servers run in
  // their own process group, so a SIGKILL to start alone would leave them behind).
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const servers = [...nats(), ...children(child.pid!, 'redis-server')];
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    for (const s of servers) {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        // stopped by start
      }
    }
  });
  await until('a child nats-server', () => nats().length === 1, 30_000, 100);
  const [first] = nats();
  const port = first.args[first.args.indexOf('-p') + 1];
  // The process shows up before it listens: nats.js retries the first connection until it accepts.
  const nc = await connectNats({
    url: `nats://127.0.0.1:${port}`,
    reconnectTimeWaitMs: 100,
    extra: { waitOnFirstConnect: true },
  });
  t.after(() => nc.close());
  // The planner's placement names a served model.
  let model: string | undefined;
  await until(
    'a placement',
    async () => {
      try {
        const msg = await nc.request('ms.actor.planner.current', encode({ args: [] }), { timeout: 2_000 });
        const reply = decode(msg.data) as { value?: { profiles?: Array<{ name: string }> } | null };
        model = reply.value?.profiles?.[0]?.name;
      } catch {
        model = undefined;
      }
      return model !== undefined;
    },
    60_000,
    250,
  );
  await until('a request served', () => served(nc, model!, 'before'), 30_000, 100);
  const killedAt = Date.now();
  process.kill(first.pid, 'SIGKILL');
  await until(
    'a new nats-server on the same port',
    () => nats().some((s) => s.pid !== first.pid && s.args.includes(port)),
    15_000,
    50,
  );
  const restartedAt = Date.now();
  await until('a request served again', () => served(nc, model!, 'after'), 30_000, 100);
  const servingAt = Date.now();
  console.log(
    `# start: nats-server restarted ${restartedAt - killedAt} ms after SIGKILL, serving again ${servingAt - killedAt} ms after it`,
  );
  assert.match(out, new RegExp(`nats-server on port ${port} died \\(killed by SIGKILL\\); restarting`), out);
  await until('start to say it is back', () => new RegExp(`nats-server back on port ${port}`).test(out), 5_000);
  child.kill('SIGINT');
  assert.equal(await exited, 0, `${out}\n${err}`);
});
