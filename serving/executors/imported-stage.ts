// One stage of an imported model on onnxruntime: its stage file (from the model store) as one
// session, fed the tensors it receives by name and handing on the ones later stages read — its
// own results, or received tensors passed through.
import * as ort from 'onnxruntime-node';
import type { OrtSettings } from '../../config/worker.js';
import type { TensorSpec } from '../../modelgen/tensor-spec.js';
import type { StoredStage } from '../../planner/types.js';
import { float32Values, type WireTensor, wireTensor } from '../protocol/tensor.js';
import { parseTensorSet, tensorSetValue } from '../protocol/tensor-set.js';

const specs = (tensors: StoredStage['receives']): TensorSpec[] =>
  tensors.map((t) => ({ name: t.name, shape: [...t.shape] }));

export class ImportedStageRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly receives: TensorSpec[],
    private readonly sends: TensorSpec[],
  ) {}

  static async load(
    bytes: Uint8Array,
    stage: StoredStage,
    options: Partial<OrtSettings> = {},
  ): Promise<ImportedStageRunner> {
    const provider = options.provider ?? 'cpu';
    const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: [provider] };
    if (options.intraOpThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpThreads;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, sessionOptions);
    } catch (err) {
      throw new Error(
        `cannot load stage file ${stage.object} on execution provider "${provider}": ${(err as Error).message}`,
      );
    }
    const receives = specs(stage.receives);
    const sends = specs(stage.sends);
    const received = new Set(receives.map((r) => r.name));
    const handed = new Set([...received, ...session.outputNames]);
    const missing = [
      ...session.inputNames.filter((n) => !received.has(n)),
      ...sends.map((s) => s.name).filter((n) => !handed.has(n)),
    ];
    if (missing.length) {
      await session.release();
      throw new Error(
        `stage file ${stage.object} does not match its description: no tensor ${missing.map((n) => `"${n}"`).join(', ')}`,
      );
    }
    return new ImportedStageRunner(session, receives, sends);
  }

  /** Runs the stage on `input` (validated: a bad tensor throws TensorError). */
  async run(input: unknown): Promise<unknown> {
    const received = parseTensorSet(input, this.receives);
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const t = received[name];
      feeds[name] = new ort.Tensor('float32', float32Values(t), t.shape);
    }
    const results = await this.session.run(feeds);
    const out: Record<string, WireTensor> = {};
    for (const { name } of this.sends) {
      const r = results[name];
      if (r === undefined) {
        out[name] = received[name];
        continue;
      }
      if (r.type !== 'float32') throw new Error(`the stage produced ${r.type} "${name}", not float32`);
      out[name] = wireTensor(r.data as Float32Array, [...r.dims]);
    }
    return tensorSetValue(out, this.sends);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
