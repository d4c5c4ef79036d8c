// Reading a model repository: every model folder with its meshserve.json, and a clear error for
// a missing or invalid one, a folder name that cannot be a model name, or no model at all.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readRepository } from '../../dev/model-import/repository.js';
import { saveProfilesFile } from '../../dev/planner-files.js';
import { synthesiseConfigs } from '../../planner/zoo.js';

const dirs: string[] = [];
function repository(models: Record<string, { json?: string; onnx?: boolean }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'repository-'));
  dirs.push(dir);
  for (const [name, m] of Object.entries(models)) {
    mkdirSync(join(dir, name));
    if (m.onnx !== false) writeFileSync(join(dir, name, 'model.onnx'), 'bytes');
    if (m.json !== undefined) writeFileSync(join(dir, name, 'meshserve.json'), m.json);
  }
  return dir;
}

describe('model repository', () => {
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('lists the model folders with their settings and earlier profiles; folders without model.onnx are skipped', () => {
    const dir = repository({
      'ocr-det': { json: '{ "slo": 0.5, "rate": 4, "inputShape": { "x": [1, 3, 64, 320] }, "maxPp": 4 }' },
      tiny: { json: '{ "slo": 0.1 }' },
      notes: { onnx: false },
    });
    const profile = {
      name: 'tiny',
      singleDeviceLatency: 0.01,
      weightBytes: 1,
      configs: synthesiseConfigs(0.01, 1),
      source: 'measured' as const,
    };
    saveProfilesFile(join(dir, 'tiny', 'profile.json'), [profile]);
    const models = readRepository(dir);
    assert.deepEqual(
      models.map((m) => [m.name, m.config, m.previous?.name]),
      [
        ['ocr-det', { slo: 0.5, rate: 4, inputShape: { x: [1, 3, 64, 320] }, maxPp: 4 }, undefined],
        ['tiny', { slo: 0.1 }, 'tiny'],
      ],
    );
  });

  it('says what is wrong with a meshserve.json, naming the file', () => {
    const cases: Array<[string | undefined, RegExp]> = [
      [undefined, /ocr\/meshserve\.json: ENOENT.*\(every model folder needs one, e\.g\. \{ "slo": 0\.5 \}\)/],
      ['{ "slo": 0.5', /ocr\/meshserve\.json: .*JSON/],
      ['{ "rate": 2 }', /ocr\/meshserve\.json is not valid:\n {2}slo: /],
      ['{ "slo": 0.5, "maxPp": 3 }', /maxPp/],
      ['{ "slo": 0.5, "inputShape": { "x": [1, 0] } }', /inputShape\.x\.1/],
      ['{ "slo": 0.5, "batch": 4 }', /Unrecognized key: "batch"/],
    ];
    for (const [json, message] of cases) assert.throws(() => readRepository(repository({ ocr: { json } })), message);
  });

  it('refuses a folder name that cannot be a model name, and a repository without models', () => {
    assert.throws(
      () => readRepository(repository({ 'my model': { json: '{ "slo": 1 }' } })),
      /letters, digits, "-" and "_" only/,
    );
    assert.throws(
      () => readRepository(repository({})),
      /no model in .*: expected <name>\/model\.onnx with <name>\/meshserve\.json/,
    );
    assert.throws(() => readRepository('/no/such/folder'), /cannot read the model repository \/no\/such\/folder/);
  });
});
