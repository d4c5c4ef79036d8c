// Any language: examples/python_client.py speaks the NATS text protocol and the public JSON
// request protocol with Python's standard library only; through a live cluster it gets an ok
// reply (simulated devices and an ONNX model with a base64 tensor), a rejection and a clear
// connection error, each with the documented exit code.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SEED } from '../../modelgen/transformer.js';
import { startCluster, type TestCluster, testProfile } from '../serving/helpers.js';

const script = fileURLToPath(new URL('../../../examples/python_client.py', import.meta.url));
const python = spawnSync('python3', ['--version']).status === 0;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples/python_client.py (standard-library Python client)', {
  skip: python ? false : 'python3 is not installed',
}, () => {
  let sim: TestCluster;
  let onnx: TestCluster;
  before(async () => {
    sim = await startCluster({
      workers: 1,
      profiles: [testProfile('m', 0.05)],
      planner: { strategy: 'static', groups: [{ config: { pp: 1, op: 1 }, models: ['m'] }] },
    });
    await sim.planner.call('replace', 'test');
    onnx = await startCluster({
      workers: 2,
      profiles: [{ ...testProfile('tiny', 0.02, 0.001), onnx: { size: 'tiny', seed: DEFAULT_SEED } }],
      worker: { executor: 'onnx', ort: { intraOpThreads: 1 } },
      planner: { strategy: 'static', groups: [{ config: { pp: 2, op: 1 }, models: ['tiny'] }] },
    });
    await onnx.planner.call('replace', 'test');
  });
  after(async () => {
    await sim?.close();
    await onnx?.close();
  });

  it('gets ok with the input echoed, then a rejection for an SLO no group can meet', async () => {
    const ok = await run(['--url', sim.servers.natsUrl, '--slo', '1', '--input', '{"tokens":[1,2]}', 'm']);
    assert.equal(ok.code, 0, ok.stderr);
    const reply = JSON.parse(ok.stdout) as { status: string; output: unknown; id: string };
    assert.equal(reply.status, 'ok');
    assert.deepEqual(reply.output, { tokens: [1, 2] });
    assert.match(reply.id, /^py-\d+$/);
    const rejected = await run(['--url', sim.servers.natsUrl, '--slo', '0.001', 'm']);
    assert.equal(rejected.code, 1, rejected.stderr);
    assert.match(JSON.parse(rejected.stdout).reason, /exceeds the SLO of 1\.0 ms/);
  });

  it('sends a base64 float32 tensor to an ONNX pipeline and decodes the output tensor', async () => {
    const r = await run(['--url', onnx.servers.natsUrl, '--slo', '5', '--tensor', '1,16,32', 'tiny']);
    assert.equal(r.code, 0, r.stderr);
    const reply = JSON.parse(r.stdout) as { status: string; output: { dtype: string; shape: number[]; data: string } };
    assert.equal(reply.status, 'ok');
    assert.deepEqual(reply.output.shape, [1, 16, 16]);
    assert.match(reply.output.data, /^256 float32 values, first \[/);
    const bad = await run(['--url', onnx.servers.natsUrl, '--tensor', '1,16,31', 'tiny']);
    assert.equal(bad.code, 1);
    assert.match(JSON.parse(bad.stdout).reason, /got shape \[1, 16, 31\]/);
  });

  it('exit 2 with a one-line reason when no server answers or the usage is wrong', async () => {
    const down = await run(['--url', 'nats://127.0.0.1:1', '--timeout', '2', 'm']);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /^python_client: .*refused/m);
    const usage = await run(['--tensor', '1,x', 'm']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--tensor takes a shape such as 1,16,32/);
  });
});
