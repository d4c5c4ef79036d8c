// One stage of an imported model on onnxruntime, from its files in the model store (checked
// against their sha256). With op = 1 the stage is one session, fed the tensors it receives by name
// and handing on the ones later stages read — its own results, or received tensors passed through.
// With op > 1 a shard runs the stage's segments in turn: a replicated segment whole, a split
// layer's own slice, whose partial product it sums with the other shards' (the worker's
// all-gather) before the next segment, in shard order, so every shard carries on from the same
// values.
import * as ort from 'onnxruntime-node';
import type { OrtSettings } from '../../config/worker.js';
import type { TensorSpec } from '../../modelgen/tensor-spec.js';
import type { StageTensor, StoredStage } from '../../planner/types.js';
import type { StageFiles } from '../model-store/stage-files.js';
import { float32Values, parseWireTensor, type WireTensor, wireTensor } from '../protocol/tensor.js';
import { parseTensorSet, tensorSetValue } from '../protocol/tensor-set.js';
import { sumPartials } from './plan-runner.js';
import type { ShardExchange } from './stage-executor.js';

const specs = (tensors: readonly StageTensor[]): TensorSpec[] =>
  tensors.map((t) => ({ name: t.name, shape: [...t.shape] }));

interface Segment {
  session: ort.InferenceSession;
  sends: TensorSpec[];
  reduce?: TensorSpec;
}

async function createSession(
  bytes: Uint8Array,
  object: string,
  options: Partial<OrtSettings>,
): Promise<ort.InferenceSession> {
  const provider = options.provider ?? 'cpu';
  const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: [provider] };
  if (options.intraOpThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpThreads;
  try {
    return await ort.InferenceSession.create(bytes, sessionOptions);
  } catch (err) {
    throw new Error(`cannot load stage file ${object} on execution provider "${provider}": ${(err as Error).message}`);
  }
}

export class ImportedStageRunner {
  private constructor(
    private readonly segments: Segment[],
    private readonly receives: TensorSpec[],
    private readonly sends: TensorSpec[],
    private readonly shard: number,
  ) {}

  /** Loads what shard `shard` runs of `stage` (shard 0 of an op = 1 stage: its one file). */
  static async load(
    files: StageFiles,
    stage: StoredStage,
    shard: number,
    options: Partial<OrtSettings> = {},
  ): Promise<ImportedStageRunner> {
    const parts = stage.segments ?? [{ receives: stage.receives, sends: stage.sends, objects: [stage.object!] }];
    const segments: Segment[] = [];
    try {
      for (const part of parts) {
        const object = part.objects[part.reduce ? shard : 0];
        if (!object) throw new Error(`no stage file for shard ${shard}`);
        const session = await createSession(await files.get(object), object, options);
        segments.push({
          session,
          sends: specs(part.sends),
          ...(part.reduce ? { reduce: specs([part.reduce])[0] } : {}),
        });
        const held = new Set([...part.receives.map((t) => t.name), ...session.outputNames]);
        const missing = [
          ...session.inputNames.filter((n) => !part.receives.some((t) => t.name === n)),
          ...part.sends.map((t) => t.name).filter((n) => !held.has(n)),
        ];
        if (missing.length)
          throw new Error(
            `stage file ${object} does not match its description: no tensor ${missing.map((n) => `"${n}"`).join(', ')}`,
          );
      }
    } catch (err) {
      await Promise.all(segments.map((s) => s.session.release()));
      throw err;
    }
    return new ImportedStageRunner(segments, specs(stage.receives), specs(stage.sends), shard);
  }

  /** Runs the stage on `input` (validated: a bad tensor throws TensorError); `shards` for op > 1. */
  async run(input: unknown, shards?: ShardExchange): Promise<unknown> {
    let tensors: Record<string, WireTensor> = parseTensorSet(input, this.receives);
    for (const [index, segment] of this.segments.entries()) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of segment.session.inputNames) {
        const t = tensors[name];
        feeds[name] = new ort.Tensor('float32', float32Values(t), t.shape);
      }
      const results = await segment.session.run(feeds);
      const produced: Record<string, WireTensor> = {};
      for (const name of segment.session.outputNames) {
        const r = results[name];
        if (r.type !== 'float32') throw new Error(`the stage produced ${r.type} "${name}", not float32`);
        produced[name] = wireTensor(r.data as Float32Array, [...r.dims]);
      }
      if (segment.reduce) {
        if (!shards) throw new Error('a sharded stage was run without its shard exchange');
        const mine = produced[segment.reduce.name];
        const spec = segment.reduce;
        const parts = await shards.allGather(index, mine);
        produced[spec.name] = sumPartials(parts.map((p, j) => (j === this.shard ? mine : parseWireTensor(p, spec))));
      }
      tensors = Object.fromEntries(segment.sends.map(({ name }) => [name, produced[name] ?? tensors[name]]));
    }
    return tensorSetValue(tensors, this.sends);
  }

  async release(): Promise<void> {
    await Promise.all(this.segments.map((s) => s.session.release()));
  }
}
