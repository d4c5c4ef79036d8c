// meshserve on a 3-server NATS cluster (routes on loopback, JetStream on every server): every
// process gets all three URLs. The server that a dispatcher and the most workers are connected to
// is killed with SIGKILL under load. Every actor and client moves to the other servers by itself;
// a client on a surviving server loses only what was in flight through the dying server at the
// kill (nats-server hands a request to a queue member on any server, at random, so it may travel
// through the dying one); a client on the dead server loses only what it sent until it had
// reconnected (nats.js drops what is published while disconnected) and what was in flight at the
// kill (its reply was to come back through the dying server). JetStream answers again on the
// servers left. The standard-library Python client finds a live server in a list whose first
// entry is the dead one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectNats } from '../../bus/index.js';
import { testProfile } from '../serving/helpers.js';
import {
  fmtMs,
  LoadClient,
  longestAnswerBefore,
  type ProcessCluster,
  sleep,
  startProcessCluster,
  statusCounts,
  until,
} from './helpers.js';

const SLO = 1;
const ACTORS = ['planner', 'dispatcher', 'dispatcher-2', 'gpu-0', 'gpu-1', 'gpu-2'];
const python = spawnSync('python3', ['--version']).status === 0;
const pythonClient = fileURLToPath(new URL('../../../examples/python_client.py', import.meta.url));

/** Names of the connections each server holds (from its /connz monitoring endpoint). */
async function connectionsByServer(c: ProcessCluster): Promise<string[][]> {
  return await Promise.all(
    c.servers.natsServers.map(async (s) => {
      const connz = (await (await fetch(`${s.monitorUrl}/connz?limit=1024`)).json()) as {
        connections?: Array<{ name?: string }>;
      };
      return (connz.connections ?? []).map((conn) => conn.name ?? '');
    }),
  );
}

describe('reliability: a 3-server NATS cluster loses a server under load', () => {
  let c: ProcessCluster;
  before(async () => {
    c = await startProcessCluster({
      workers: 3,
      dispatchers: 2,
      natsCluster: 3,
      profiles: [testProfile('a', 0.03, 8)],
      planner: { strategy: 'round-robin' },
    });
  });
  after(() => c?.close());

  it('everyone moves to the servers left; nothing that reached a live server is lost', {
    timeout: 90_000,
  }, async (t) => {
    const cluster = c.servers.natsCluster!;
    await cluster.waitForJetStream();
    // The victim: a server with a dispatcher on it, rather one where the other dispatcher is not
    // (processes choose servers at random; both may be on one), then the one with more workers.
    const conns = await connectionsByServer(c);
    const dispatchersOn = (names: string[]): number => names.filter((n) => /^actor-host:dispatcher/.test(n)).length;
    const score = (names: string[]): number =>
      (dispatchersOn(names) === 1 ? 200 : dispatchersOn(names) === 2 ? 100 : 0) +
      names.filter((n) => /actor-host:gpu-/.test(n)).length;
    const victim = conns.map((names, i) => ({ i, score: score(names) })).sort((a, b) => b.score - a.score)[0].i;
    const servers = cluster.servers;
    const onVictim = conns[victim].filter((n) => n.startsWith('actor-host:'));
    const bothDispatchers = dispatchersOn(onVictim) === 2;
    // Client A on the surviving server with the other dispatcher, client C on the third server:
    // the server hands each request to either dispatcher at random (it does not prefer the one on
    // its own server: nats-server 2.9.10, measured), so requests of both may travel through the
    // victim. Client B starts on the victim and fails over.
    const survivors = [0, 1, 2]
      .filter((i) => i !== victim)
      .sort((x, y) => dispatchersOn(conns[y]) - dispatchersOn(conns[x]));
    const [survivor, third] = survivors;
    const clientA = await connectNats({ url: servers[survivor].url, name: 'client-a', reconnectTimeWaitMs: 100 });
    t.after(() => clientA.close());
    const clientC = await connectNats({ url: servers[third].url, name: 'client-c', reconnectTimeWaitMs: 100 });
    t.after(() => clientC.close());
    const ordered = [servers[victim], ...servers.filter((_, i) => i !== victim)].map((s) => s.url).join(',');
    const clientB = await connectNats({
      url: ordered,
      name: 'client-b',
      reconnectTimeWaitMs: 100,
      extra: { noRandomize: true },
    });
    t.after(() => clientB.close());
    let bReconnectedAt = Number.POSITIVE_INFINITY;
    void (async () => {
      for await (const s of clientB.status())
        if (s.type === 'reconnect') bReconnectedAt = Math.min(bReconnectedAt, Date.now());
    })();
    const loadA = new LoadClient(clientA, c.subjects, 'a');
    const loadB = new LoadClient(clientB, c.subjects, 'b');
    const loadC = new LoadClient(clientC, c.subjects, 'c');
    t.after(() => {
      loadA.close();
      loadB.close();
      loadC.close();
    });
    const stops = [loadA, loadB, loadC].map((load) => load.steady(20, () => ({ model: 'a', slo: SLO })));
    await sleep(2_000);
    const metaLeader = (
      (await (await fetch(`${servers[victim].monitorUrl}/jsz`)).json()) as {
        meta_cluster?: { leader?: string };
      }
    ).meta_cluster?.leader;
    const killedAt = Date.now();
    await servers[victim].kill();
    const answers = async (): Promise<boolean> => {
      const pings = await Promise.allSettled(ACTORS.map((n) => c.system.actor(n, { timeoutMs: 300 }).ping()));
      return pings.every((p) => p.status === 'fulfilled');
    };
    await until('every actor to answer its ping again', answers, 15_000, 50);
    const everyoneAt = Date.now();
    await sleep(3_000);
    await Promise.all(stops.map((stop) => stop()));
    await Promise.all([loadA, loadB, loadC].map((load) => load.settle(SLO * 1000 + 4_000)));

    const a = [...loadA.records.values()];
    const b = [...loadB.records.values()];
    const cc = [...loadC.records.values()];
    const lostC = loadC.unanswered();
    const firstOkB = Math.min(
      ...b.filter((r) => r.sentAt >= killedAt && r.replies[0]?.status === 'ok').map((r) => r.repliedAt!),
    );
    // A request still in flight at the kill may die with the server it passes through: one sent no
    // longer before the kill than requests took to be answered just then (+50 ms for the spread).
    const inFlightMs = longestAnswerBefore([...a, ...b, ...cc], killedAt) + 50;
    const lostA = loadA.unanswered();
    const lostB = loadB.unanswered();
    // JetStream answers again on the servers left, after a new meta leader is elected if the killed
    // server led (answers 3.4–8.7 s after the kill measured with nats-server 2.9.10, whichever
    // server led), so each server is asked until it answers, for up to 30 s after the kill.
    const jsInfo = await Promise.all(
      servers
        .filter((_, i) => i !== victim)
        .map(async (s) => {
          const nc = await connectNats({ url: s.url });
          let last = '';
          try {
            await until(
              `JetStream to answer on ${s.url}`,
              async () => {
                try {
                  const info = JSON.parse(
                    new TextDecoder().decode((await nc.request('$JS.API.INFO', '', { timeout: 1_000 })).data),
                  );
                  last = info.error ? `error ${info.error.description}` : 'ok';
                } catch (err) {
                  last = `no answer: ${(err as Error).message}`;
                }
                return last === 'ok';
              },
              Math.max(0, killedAt + 30_000 - Date.now()),
              200,
            ).catch(() => undefined);
            return last === 'ok' ? `ok ${fmtMs(Date.now() - killedAt)} after the kill` : last;
          } finally {
            await nc.close();
          }
        }),
    );
    let pythonReply = 'python3 not installed';
    if (python) {
      const run = spawnSync('python3', [pythonClient, '--url', ordered, '--slo', '5', '--input', '"x"', 'a'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      pythonReply = run.status === 0 ? JSON.parse(run.stdout).status : `exit ${run.status}: ${run.stderr.trim()}`;
    }
    const window = (lost: typeof lostB): string =>
      lost.length
        ? `${Math.min(...lost.map((r) => r.sentAt - killedAt))} to ${Math.max(...lost.map((r) => r.sentAt - killedAt))} ms after the kill`
        : '-';
    console.log(
      `# nats cluster: killed server ${victim + 1} of 3 (${onVictim.join(', ')} on it${bothDispatchers ? ': both dispatchers' : ''}); every actor answers ${fmtMs(everyoneAt - killedAt)} after the kill; answers took up to ${fmtMs(inFlightMs - 50)} just before it; ` +
        `client on a surviving server with a dispatcher if any: ${a.length} requests ${JSON.stringify(statusCounts(a))}, lost ${lostA.length}; ` +
        `client on the third server: ${cc.length} requests ${JSON.stringify(statusCounts(cc))}, lost in transit through the dying server ${lostC.length} (sent ${window(lostC)}); ` +
        `client on the dead server: ${b.length} requests ${JSON.stringify(statusCounts(b))}, reconnected ${fmtMs(bReconnectedAt - killedAt)} after the kill, first ok ${fmtMs(firstOkB - killedAt)} after it, ` +
        `left to the client's timeout ${lostB.length} (sent ${window(lostB)}); ` +
        `JetStream on the servers left (meta leader ${metaLeader === cluster.serverNames[victim] ? 'was' : 'was not'} the killed server): ${jsInfo.join(', ')}; Python client with the dead server first: ${pythonReply}`,
    );
    assert.ok(dispatchersOn(onVictim) > 0, `a dispatcher was on the killed server: ${onVictim.join(', ')}`);
    // A request routed through the victim while in flight at the kill dies with it: nothing else is lost.
    for (const lost of [lostA, lostC])
      assert.deepEqual(
        lost
          .filter((r) => r.sentAt < killedAt - inFlightMs || r.sentAt > killedAt + 50)
          .map((r) => `${r.id} sent ${r.sentAt - killedAt} ms after the kill`),
        [],
        'a client on a surviving server loses only what was inside the dying server',
      );
    assert.deepEqual(
      lostB
        .filter((r) => r.sentAt < killedAt - inFlightMs || r.sentAt > bReconnectedAt)
        .map((r) => `${r.id} sent ${r.sentAt - killedAt} ms after the kill`),
      [],
      'a client on the dead server loses only what it sent before it had reconnected',
    );
    assert.deepEqual(
      [...loadA.duplicates(), ...loadB.duplicates(), ...loadC.duplicates()].map((r) => r.id),
      [],
      'no request answered twice',
    );
    // With a dispatcher left on another server no request finds nobody, except in the kill's first
    // milliseconds, when a surviving server may still pick the dying server's queue member and
    // answer "no responders" at once (seen in 1 of 5 runs, 1 ms after the kill; docs/reliability.md);
    // with both dispatchers on the killed server, only until they have reconnected.
    assert.deepEqual(
      [...a, ...b, ...cc]
        .filter((r) => r.noResponders && (bothDispatchers ? r.sentAt > everyoneAt : Math.abs(r.sentAt - killedAt) > 50))
        .map((r) => `${r.id} sent ${r.sentAt - killedAt} ms after the kill`),
      [],
      'no "no responders" while a dispatcher was connected',
    );
    const after = [...a, ...b, ...cc].filter((r) => r.sentAt > everyoneAt);
    assert.ok(
      after.length > 50 && after.every((r) => r.replies[0]?.status === 'ok'),
      'everything is served once everyone has moved',
    );
    assert.deepEqual(
      jsInfo.map((r) => (r.startsWith('ok') ? 'ok' : r)),
      ['ok', 'ok'],
      `JetStream answers on the servers left within 30 s of the kill: ${jsInfo.join(', ')}`,
    );
    if (python) assert.equal(pythonReply, 'ok', 'the Python client skips the dead server');
    for (const name of ACTORS) assert.equal(c.child(name).restarts, 0, `${name} did not crash`);
  });
});
