// The model store: stage files of imported models in a NATS JetStream object store bucket, each
// named by the sha256 of its bytes. JetStream is part of the NATS every worker already talks to,
// so a worker on any host can fetch what it is assigned; content addressing makes an upload of
// bytes the store already holds a no-op.
import { jetstream } from '@nats-io/jetstream';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { type NatsConnection, TimeoutError } from '@nats-io/transport-node';
import { sha256Hex } from '../../modelgen/model-files.js';

/** The bucket of a runtime prefix: `ms` → `ms-models` (bucket names take no dots). */
export function modelStoreBucket(prefix = 'ms'): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '-')}-models`;
}

export class ModelStore {
  private constructor(
    private readonly store: ObjectStore,
    readonly bucket: string,
  ) {}

  /**
   * Opens the bucket; an importer creates it on first use (`create`), a reader (a worker, whose
   * NATS user may only read it) binds to it. `timeout`: ms each JetStream call may take (nats.js's
   * default, 5 s, when unset).
   */
  static async open(
    nc: NatsConnection,
    prefix = 'ms',
    o: { create?: boolean; timeout?: number } = {},
  ): Promise<ModelStore> {
    const bucket = modelStoreBucket(prefix);
    const objm = new Objm(o.timeout === undefined ? nc : jetstream(nc, { timeout: o.timeout }));
    const description = 'meshserve stage files by sha256';
    try {
      // On a NATS cluster the bucket lives on three servers, so it outlives any one of them;
      // a cluster with fewer servers, or a bucket made before, keeps one.
      const create = (): Promise<ObjectStore> =>
        nc.info?.cluster
          ? objm.create(bucket, { description, replicas: 3 }).catch(() => objm.create(bucket, { description }))
          : objm.create(bucket, { description });
      const store = o.create === false ? await objm.open(bucket) : await create();
      return new ModelStore(store, bucket);
    } catch (err) {
      // A timeout is also what a NATS cluster answers while it elects a new JetStream leader.
      const why =
        err instanceof TimeoutError
          ? 'JetStream did not answer: the server has no JetStream (nats-server -js), or its cluster is electing a leader after losing a server'
          : `the NATS server needs JetStream, nats-server -js${o.create === false ? ', and something imported' : ''}`;
      throw new Error(
        `cannot open the model store (JetStream object store "${bucket}"; ${why}): ${(err as Error).message}`,
      );
    }
  }

  async has(object: string): Promise<boolean> {
    const info = await this.store.info(object);
    return !!info && !info.deleted;
  }

  /** Stores `bytes` under their sha256 unless present; true when it uploaded. */
  async put(bytes: Uint8Array): Promise<{ object: string; uploaded: boolean }> {
    const object = sha256Hex(bytes);
    if (await this.has(object)) return { object, uploaded: false };
    await this.store.putBlob({ name: object }, bytes);
    return { object, uploaded: true };
  }

  /** Stores bytes under a name of the caller's choosing (tests use it to plant a corrupt object). */
  async putAs(object: string, bytes: Uint8Array): Promise<void> {
    await this.store.putBlob({ name: object }, bytes);
  }

  /** The object's bytes, or undefined when the store has no such object. */
  async get(object: string): Promise<Uint8Array | undefined> {
    const data = await this.store.getBlob(object);
    return data ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
  }

  /** Names of every object stored. */
  async list(): Promise<string[]> {
    return (await this.store.list()).filter((i) => !i.deleted).map((i) => i.name);
  }

  async delete(object: string): Promise<void> {
    await this.store.delete(object);
  }
}
