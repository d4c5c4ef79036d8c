// The model store on JetStream: stage files by sha256, uploaded once; a worker's cache downloads
// each once and checks every byte against its name, so a missing or corrupt object is an error
// naming it, and a corrupt cache file is fetched again.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../bus/index.js';
import { sha256Hex } from '../../modelgen/model-files.js';
import { ModelStore } from '../../serving/model-store/model-store.js';
import { CachedStageFiles } from '../../serving/model-store/stage-files.js';
import { startServers, type TestServers } from '../helpers/servers.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('model store', () => {
  let servers: TestServers;
  let nc: NatsConnection;
  let store: ModelStore;
  let dir: string;
  before(async () => {
    servers = await startServers({ jetstream: true });
    nc = await connectNats({ url: servers.natsUrl });
    store = await ModelStore.open(nc, 'ms');
    dir = mkdtempSync(join(tmpdir(), 'stage-cache-'));
  });
  after(async () => {
    await nc?.close();
    await servers?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores bytes under their sha256, once', async () => {
    const data = bytes(300_000, 1); // several chunks
    const first = await store.put(data);
    assert.deepEqual(first, { object: sha256Hex(data), uploaded: true });
    assert.deepEqual(
      await store.put(data),
      { object: first.object, uploaded: false },
      'nothing uploaded the second time',
    );
    assert.deepEqual(await store.get(first.object), data);
    assert.equal(await store.get('0'.repeat(64)), undefined);
    assert.equal(store.bucket, 'ms-models');
  });

  it('a worker downloads a stage file once, then reads its disk cache; a corrupt cache file is fetched again', async () => {
    const data = bytes(5000, 2);
    const { object } = await store.put(data);
    const files = new CachedStageFiles(() => ModelStore.open(nc, 'ms'), dir);
    assert.deepEqual(await files.get(object), data);
    assert.deepEqual(await files.get(object), data);
    assert.equal(files.downloads, 1);
    assert.deepEqual(readdirSync(dir), [`${object}.onnx`]);
    writeFileSync(join(dir, `${object}.onnx`), bytes(5000, 3));
    assert.deepEqual(await files.get(object), data);
    assert.equal(files.downloads, 2);
  });

  it('a missing or corrupt object is an error naming it', async () => {
    const files = new CachedStageFiles(() => ModelStore.open(nc, 'ms'), dir);
    const missing = sha256Hex(bytes(10, 9));
    await assert.rejects(
      files.get(missing),
      new RegExp(`stage file ${missing} is missing from the model store \\(bucket ms-models\\)`),
    );
    const wanted = sha256Hex(bytes(100, 4));
    await store.putAs(wanted, bytes(100, 5));
    await assert.rejects(
      files.get(wanted),
      new RegExp(
        `stage file ${wanted} in the model store \\(bucket ms-models\\) is corrupt: its bytes hash to ${sha256Hex(bytes(100, 5))}`,
      ),
    );
    assert.ok(!readdirSync(dir).includes(`${wanted}.onnx`), 'nothing cached');
  });

  it('without JetStream the store says what it needs', async () => {
    const plain = await startServers({ nats: true });
    const c = await connectNats({ url: plain.natsUrl });
    try {
      await assert.rejects(ModelStore.open(c, 'ms'), /cannot open the model store .*needs JetStream, nats-server -js/);
    } finally {
      await c.close();
      await plain.close();
    }
  });
});
