// Stage files as a worker gets them: from its disk cache when the file there still has the right
// hash, else downloaded from the model store, checked against its name (the sha256 of its bytes)
// and cached. A missing or corrupt object is an error naming the object and what is wrong.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../../modelgen/model-files.js';
import type { ModelStore } from './model-store.js';

/** Verified stage files by object name (sha256 hex). */
export interface StageFiles {
  get(object: string): Promise<Uint8Array>;
}

export class CachedStageFiles implements StageFiles {
  private store: Promise<ModelStore> | undefined;
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();
  /** Objects fetched from the store (not the cache) so far. */
  downloads = 0;

  constructor(
    private readonly openStore: () => Promise<ModelStore>,
    readonly dir: string,
  ) {}

  get(object: string): Promise<Uint8Array> {
    let pending = this.inFlight.get(object);
    if (!pending) {
      pending = this.#get(object).finally(() => this.inFlight.delete(object));
      this.inFlight.set(object, pending);
    }
    return pending;
  }

  async #get(object: string): Promise<Uint8Array> {
    if (!/^[0-9a-f]{64}$/.test(object)) throw new Error(`"${object}" is not a stage file name (a sha256 in hex)`);
    const path = join(this.dir, `${object}.onnx`);
    const cached = await readFile(path).catch(() => undefined);
    if (cached && sha256Hex(cached) === object)
      return new Uint8Array(cached.buffer, cached.byteOffset, cached.byteLength);
    if (!this.store) {
      this.store = this.openStore();
      this.store.catch(() => (this.store = undefined)); // a failed open is tried again next time
    }
    const store = await this.store;
    let bytes: Uint8Array | undefined;
    try {
      bytes = await store.get(object);
    } catch (err) {
      throw new Error(
        `stage file ${object} cannot be read from the model store (bucket ${store.bucket}): ${(err as Error).message}`,
      );
    }
    if (!bytes) throw new Error(`stage file ${object} is missing from the model store (bucket ${store.bucket})`);
    const got = sha256Hex(bytes);
    if (got !== object)
      throw new Error(
        `stage file ${object} in the model store (bucket ${store.bucket}) is corrupt: its bytes hash to ${got}`,
      );
    this.downloads++;
    await mkdir(this.dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
    return bytes;
  }
}
