// A real Prometheus (Debian's `prometheus`, which scripts/ensure-servers.sh installs) scrapes the
// dispatcher's /metrics; PromQL through its HTTP API returns the request counter and the SLO
// attainment. The server runs on a free port with a temporary config and storage, and is stopped
// and removed afterwards.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findBinary, freePort } from '../../dev/servers.js';
import { type MetricsServer, serveMetrics } from '../../ops/metrics-server.js';
import { METRIC_NAMES } from '../../serving/dispatcher/metrics.js';
import { startCluster, type TestCluster, testProfile } from '../serving/helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const exported = new Set<string>(Object.values(METRIC_NAMES));

let binary: string | undefined;
try {
  binary = findBinary('prometheus');
} catch {
  binary = undefined;
}

let c: TestCluster;
let metrics: MetricsServer;
let prometheus: ChildProcess;
let api = '';
let dir = '';

before(async () => {
  if (!binary) {
    assert.ok(!process.env.CI, 'prometheus is missing in CI: scripts/ensure-servers.sh installs it');
    return;
  }
  c = await startCluster({
    workers: 2,
    profiles: [testProfile('m', 0.01)],
    planner: {
      strategy: 'static',
      groups: [
        { config: { pp: 1, op: 1 }, models: ['m'] },
        { config: { pp: 1, op: 1 }, models: ['m'] },
      ],
    },
  });
  await c.planner.call('replace', 'test');
  for (let i = 0; i < 5; i++) assert.equal((await c.infer('m', { slo: 1 })).status, 'ok');
  for (let i = 0; i < 3; i++) assert.equal((await c.infer('m', { slo: 0.001 })).status, 'rejected');
  metrics = await serveMetrics(() => c.dispatcher.call('metrics'), { port: 0, host: '127.0.0.1' });
  dir = mkdtempSync(join(tmpdir(), 'prometheus-test-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: meshserve',
      '    static_configs:',
      `      - targets: ['${metrics.url.replace('http://', '')}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prometheus.stderr?.resume();
});

after(async () => {
  if (prometheus && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await new Promise((r) => prometheus.once('exit', r));
  }
  await metrics?.close();
  await c?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One instant PromQL query's first value, or undefined when it has no result (yet). */
async function query(promql: string): Promise<number | undefined> {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const body = (await res.json()) as { status: string; data: { result: Array<{ value: [number, string] }> } };
  const first = body.data.result[0];
  return first ? Number(first.value[1]) : undefined;
}

test('Prometheus scrapes /metrics: the request counter and the SLO attainment through PromQL', {
  // In CI (CI=true) a missing binary fails the test: the set-up script must have installed it.
  skip: binary || process.env.CI ? false : 'no prometheus binary (scripts/ensure-servers.sh installs it)',
  timeout: 60_000,
}, async () => {
  const deadline = Date.now() + 40_000;
  let requests: number | undefined;
  while (requests === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    requests = await query('sum(meshserve_requests_total{group="all"})');
  }
  assert.equal(requests, 8, 'five served and three rejected requests, counted by the dispatcher');
  assert.equal(await query('up{job="meshserve"}'), 1);
  const attainment = await query(
    'sum by (model) (meshserve_within_slo_total{group="all"}) / sum by (model) (meshserve_requests_total{group="all"})',
  );
  assert.equal(attainment, 5 / 8);
  assert.equal(await query('sum(meshserve_rejections_total{group="all"})'), 3);
  assert.ok(existsSync(join(dir, 'data')), 'the temporary storage was used');
});

test('every query of the Grafana dashboard (deploy/grafana) is valid PromQL on these metrics', {
  skip: binary || process.env.CI ? false : 'no prometheus binary',
}, async () => {
  const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/meshserve-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 8);
  for (const { title, expr } of exprs) {
    for (const name of expr.match(/meshserve_\w+/g) ?? [])
      assert.ok(exported.has(name.replace(/_bucket$/, '')), `${title}: ${name} is not a meshserve metric`);
    const promql = expr.replace(/\$__rate_interval/g, '1m');
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string };
    assert.equal(body.status, 'success', `${title}: ${body.error}`);
  }
});
