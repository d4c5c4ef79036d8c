// `meshserve repl` driven through its standard input against private servers, with a demo
// actor and a stand-in dispatcher (stats()) spawned by the test; history and tab completion
// checked in-process on a TTY-mode REPL.

import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ActorSystem } from '../../bus/index.js';
import { startRepl } from '../../ops/repl.js';
import { type DispatcherStats, ModelCounters, NO_LATENCY } from '../../serving/dispatcher/stats.js';
import { Greeter } from '../fixtures/greeter.js';
import { startServers, type TestServers } from '../helpers/servers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');

/** Answers stats() in the real dispatcher's shape, one more request each time. */
class FakeDispatcher {
  calls = 0;
  stats(): DispatcherStats {
    this.calls++;
    const m1 = new ModelCounters();
    m1.requests = this.calls;
    for (let i = 0; i < this.calls; i++) m1.served(0.02, true);
    return {
      dispatcher: 'fake',
      placementVersion: 3,
      inflight: 0,
      totals: {
        requests: this.calls,
        ok: this.calls,
        withinSlo: this.calls,
        rejected: 0,
        errors: 0,
        adopted: 0,
        yielded: 0,
      },
      peers: { present: false, notesSent: 0, notesReceived: 0 },
      models: { m1: m1.snapshot(NO_LATENCY) },
      groups: [],
    };
  }
}

let servers: TestServers;
let system: ActorSystem;
let dir: string;

before(async () => {
  servers = await startServers({ nats: true, redis: true });
  system = await ActorSystem.connect({ natsUrl: servers.natsUrl, redisUrl: servers.redisUrl, name: 'repl-test' });
  await system.spawn('greeter', new Greeter());
  await system.spawn('dispatcher', new FakeDispatcher());
  // A stand-in for the runtime's dispatcher on the public subject: echoes what infer() sent.
  system.nats.subscribe('ms.infer.>', { callback: (_e, m) => void m.respond(m.data) });
  await system.redis!.set(
    'ms:placement:current',
    JSON.stringify({ version: 3, groups: [{ id: 'g0', models: ['m1'] }] }),
  );
  dir = mkdtempSync(join(tmpdir(), 'repl-test-'));
});
after(async () => {
  await system.close();
  await servers.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends lines one at a time, each waiting for its expected output. */
class Driver {
  out = '';
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.out += d));
  }
  async send(line: string, expect: RegExp, timeoutMs = 5_000): Promise<string> {
    const from = this.out.length;
    this.child.stdin.write(`${line}\n`);
    const deadline = Date.now() + timeoutMs;
    while (!expect.test(this.out.slice(from))) {
      if (Date.now() > deadline) assert.fail(`no ${expect} after "${line}"; output:\n${this.out.slice(from)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.out.slice(from);
  }
}

test('repl over stdin: actors, call, handles, infer, placement, replace, watch, .help', async () => {
  const child = spawn(process.execPath, [cli, 'repl'], {
    env: {
      ...process.env,
      NATS_URL: servers.natsUrl,
      REDIS_URL: servers.redisUrl,
      MESHSERVE_REPL_HISTORY: join(dir, 'hist1'),
    },
  });
  const repl = new Driver(child);
  try {
    await repl.send('.help', /actors\(\)[\s\S]*call\(name, method[\s\S]*watch\(ms = 1000\)/);
    await repl.send('(await actors()).map(a => a.name).sort().join(",")', /'dispatcher,greeter'/);
    await repl.send('await call("greeter", "greet", "from-repl")', /greeting: 'hello, from-repl'/);
    await repl.send('const h = actor("greeter"); (await h.call("greet", "x")).count', /\b2\b/);
    await repl.send('JSON.stringify(await infer("m1", [1, 2], { slo: 100 }))', /\{"input":\[1,2\],"slo":100\}/);
    // Model names may hold dots (bert-1.3b): the subject is ms.infer.<the whole name>.
    await repl.send('JSON.stringify(await infer("bert-1.3b", "x"))', /\{"input":"x"\}/);
    await repl.send('(await placement()).groups[0].models[0]', /'m1'/);
    await repl.send('await replace().catch((e) => e.name)', /'NoRespondersError'/);
    const watched = await repl.send('watch(30)', /requests=2[\s\S]*requests=3/);
    assert.match(watched, /placement v3/);
    await repl.send('.stop', /watch stopped/);
    const before = repl.out.length;
    await new Promise((r) => setTimeout(r, 150));
    assert.doesNotMatch(repl.out.slice(before), /requests=/, 'watch printed after .stop');
    child.stdin.end();
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
  } finally {
    child.kill();
  }
});

test('a script piped to stdin runs in order, multi-line statements included, and finishes its last await before the REPL exits', {
  timeout: 20_000,
}, async () => {
  const child = spawn(process.execPath, [cli, 'repl'], {
    env: { ...process.env, NATS_URL: servers.natsUrl, REDIS_URL: servers.redisUrl, MESHSERVE_REPL_HISTORY: '' },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  // All at once, as `meshserve repl < script` delivers it: the slow line must still come first,
  // and the infer after it must be answered before .exit closes the connection.
  child.stdin.end(
    [
      'await new Promise((r) => setTimeout(() => r("first"), 300))',
      '"second"',
      // A statement over several lines (the REPL's "..." continuation) still works when piped.
      'function f() {',
      '  return 40 + 2',
      '}',
      'f()',
      'JSON.stringify(await infer("m1", "last"))',
      '.exit',
      '',
    ].join('\n'),
  );
  // A REPL stuck on a broken statement never exits: give up after 10 s and kill it.
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill();
      resolve('killed after 10 s');
    }, 10_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, out);
  assert.ok(out.indexOf("'first'") >= 0 && out.indexOf("'first'") < out.indexOf("'second'"), `out of order:\n${out}`);
  assert.match(out, /\b42\b/);
  assert.doesNotMatch(out, /Illegal return|is not defined/);
  assert.match(out, /\{"input":"last"\}/);
  assert.doesNotMatch(out, /connection closed|Uncaught/);
});

test('repl: exit code 1 with a reason when the cluster is unreachable', async () => {
  const child = spawn(process.execPath, [cli, 'repl'], {
    env: { ...process.env, NATS_URL: 'nats://127.0.0.1:1', REDIS_URL: servers.redisUrl, MESHSERVE_REPL_HISTORY: '' },
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.end();
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(err, /repl: cannot connect/);
});

test('history file is written and tab completion knows the helpers (TTY mode)', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  const historyFile = join(dir, 'hist2');
  const { server, exited } = await startRepl({ system, input, output, historyFile, terminal: true });
  const [completions] = await new Promise<[string[], string]>((resolve, reject) =>
    server.completer('plac', (err, result) => (err ? reject(err) : resolve(result as [string[], string]))),
  );
  assert.ok(completions.includes('placement'), `completions: ${completions.join(',')}`);
  input.write('1 + 41\r');
  await new Promise((r) => setTimeout(r, 100));
  server.close();
  await exited;
  await new Promise((r) => setTimeout(r, 100)); // history is flushed asynchronously
  assert.match(readFileSync(historyFile, 'utf8'), /1 \+ 41/);
});

test('piped: a failed statement prints one line (stack with .verbose) and makes the exit code 1; .help shows await', {
  timeout: 20_000,
}, async () => {
  const child = spawn(process.execPath, [cli, 'repl'], {
    env: { ...process.env, NATS_URL: servers.natsUrl, REDIS_URL: servers.redisUrl, MESHSERVE_REPL_HISTORY: '' },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stdin.end(['.help', 'call("nobody", "x")', '"between"', '.verbose', 'call("nobody", "y")', ''].join('\n'));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 1, out);
  assert.match(out, /await actors\(\)/);
  assert.match(out, /`await` one to use its value/);
  const [first, rest] = out.split("'between'");
  assert.match(
    first,
    /Uncaught NoRespondersError: no actor "nobody" is serving \(call to nobody\.x had no responders\)\n/,
  );
  assert.doesNotMatch(first, /^\s+at /m, 'no stack by default');
  assert.match(
    rest,
    /NoRespondersError: no actor "nobody" is serving \(call to nobody\.y[\s\S]*\n\s+at /,
    '.verbose: the stack',
  );
});

test('watch() on a terminal: the key that stops it does not land in the next line', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.setEncoding('utf8').on('data', (d: string) => (shown += d));
  const { server, exited } = await startRepl({ system, input, output, historyFile: '', terminal: true });
  const waitFor = async (re: RegExp) => {
    const deadline = Date.now() + 5_000;
    while (!re.test(shown)) {
      if (Date.now() > deadline) assert.fail(`no ${re} in:\n${shown}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  input.write('watch(50)\r');
  await waitFor(/requests=\d+/);
  input.write('x');
  await waitFor(/watch stopped/);
  await new Promise((r) => setTimeout(r, 50));
  const from = shown.length;
  input.write('40 + 2\r');
  await waitFor(/\b42\b/);
  assert.doesNotMatch(shown.slice(from), /x40|ReferenceError|SyntaxError/);
  server.close();
  await exited;
});
