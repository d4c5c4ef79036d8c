// `meshserve start` end to end: child servers, planner/dispatcher/workers as processes, a demo
// shortened to fit --duration, its report with --verbose, the metrics scraped, then a clean stop
// by --duration (long enough to scrape after the demo on a loaded machine, where starting the
// processes takes seconds). test/scripts/first-hour.test.ts drives the rest of the first hour.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');

test('start: 3 workers, a 60 s demo shortened by --duration 16, the verbose report, metrics, stops by itself', {
  timeout: 90_000,
}, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'start-cli-'));
  const began = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'error' };
  delete env.NATS_URL;
  delete env.REDIS_URL;
  const child = spawn(
    process.execPath,
    [
      cli,
      'start',
      '--workers',
      '3',
      '--demo-seconds',
      '60',
      '--demo-rate',
      '10',
      '--duration',
      '16',
      '--metrics-port',
      '0',
      '--verbose',
    ],
    { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let scraped: Promise<string> | undefined;
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    // Scrape while the demo runs, once some of its requests are served: the demo is shortened to
    // fill the time --duration leaves, so the cluster stops right after it.
    const url = /Prometheus: (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(out)?.[1];
    if (url && !scraped && /ok [1-9]/.test(err)) scraped = fetch(`${url}/metrics`).then((r) => r.text());
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  rmSync(cwd, { recursive: true, force: true });
  assert.equal(code, 0, `exit ${code}\n${out}\n${err}`);
  assert.match(out, /\(child nats-server\)/);
  assert.match(out, /placement v\d+, alpaserve/);
  const shortened = /demo: shortened to (\d+) s to fit --duration 16/.exec(out);
  assert.ok(shortened && Number(shortened[1]) < 16, out);
  assert.ok(Date.now() - began < 45_000, `--duration bounds the run: ${Date.now() - began} ms`);
  assert.match(out, /demo result: \d+ requests/);
  assert.match(out, /SLO attainment \d+\.\d+%/, '--verbose: the simulate report');
  assert.match(out, /fidelity \(live vs simulated/);
  assert.match(out, /stopping: draining actors\n[\s\S]*stopped\n$/, 'a closing line, last');
  assert.match(err, /sent \d+\/\d+/, 'progress line');
  assert.ok(scraped, 'the metrics URL was printed');
  const metrics = await scraped;
  assert.match(metrics, /^meshserve_placement_version \d+$/m);
  // The demo's requests, counted by the dispatcher process and scraped through the start process.
  const total = [...metrics.matchAll(/^meshserve_requests_total\{model="(?!all)[^"]+",group="all"\} (\d+)$/gm)].reduce(
    (a, m) => a + Number(m[1]),
    0,
  );
  assert.ok(total > 0, `requests counted: ${total}\n${metrics.slice(0, 600)}`);
});
