import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { MANIFEST_FILE, type ModelManifest, writeModels } from '../../modelgen/model-files.js';
import { transformerLayers, transformerSpec } from '../../modelgen/transformer.js';
import { buildFullModel } from '../../modelgen/transformer-graphs.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../scripts/meshserve.js', import.meta.url));

test('writeModels writes loadable models and a manifest; same seed, same bytes', async () => {
  const dirs = [await mkdtemp(join(tmpdir(), 'ms-models-')), await mkdtemp(join(tmpdir(), 'ms-models-'))];
  try {
    const [a, b] = await Promise.all(dirs.map((outDir) => writeModels({ outDir, sizes: ['tiny'], seed: 5 })));
    assert.deepEqual(a, b);
    const manifest = JSON.parse(await readFile(join(dirs[0], MANIFEST_FILE), 'utf8')) as ModelManifest;
    assert.deepEqual(manifest, a);
    const [entry] = manifest.models;
    assert.equal(entry.name, 'transformer-tiny');
    assert.equal(entry.seed, 5);
    assert.deepEqual(entry.input, { name: 'input', shape: ['batch', 16, 32], dtype: 'float32' });
    const bytes = await readFile(join(dirs[0], entry.file));
    assert.equal(bytes.length, entry.bytes);
    assert.deepEqual(bytes, await readFile(join(dirs[1], entry.file)));
    const session = await ort.InferenceSession.create(bytes);
    assert.deepEqual(session.inputNames, ['input']);
    assert.deepEqual(session.outputNames, ['output']);
    await session.release();
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
});

test('meshserve make-models: success exit 0, unknown size exit 2 with a clear message', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ms-models-'));
  try {
    const ok = await run(process.execPath, [cli, 'make-models', '--out', dir, '--sizes', 'tiny']);
    const params = transformerLayers(transformerSpec('tiny'))
      .reduce((s, l) => s + l.params, 0)
      .toLocaleString('en-US');
    assert.ok(ok.stdout.includes(`transformer-tiny.onnx: ${params} params`), ok.stdout);
    // Another process, the same bytes as this one builds.
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
    assert.equal(
      manifest.models[0].sha256,
      createHash('sha256')
        .update(buildFullModel(transformerSpec('tiny')).bytes)
        .digest('hex'),
    );
    assert.match(ok.stdout, /wrote 1 model\(s\) and manifest\.json/);
    await assert.rejects(
      run(process.execPath, [cli, 'make-models', '--out', dir, '--sizes', 'tiny,huge']),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /^meshserve make-models: unknown model size "huge"; known sizes: tiny, small, base$/m);
        assert.doesNotMatch(err.stderr, /\n\s+at /);
        return true;
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
