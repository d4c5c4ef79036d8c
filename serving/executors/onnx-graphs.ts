// Running the graphs of one (stage, shard) on onnxruntime: one graph per segment of the stage, in
// order, each with its InferenceSession created once at load. One intra-op thread per session is
// the right setting for one shard per core, and it also loads sessions about 10× faster (no
// thread pool per session).
import * as ort from 'onnxruntime-node';
import { type OrtSettings, WORKER_DEFAULTS } from '../../config/worker.js';
import type { LoadableGraph, StageShardSpec } from '../../modelgen/partition.js';
import { float32Values, parseWireTensor, type WireTensor, wireTensor } from '../protocol/tensor.js';

/** Runs the graphs of one stage shard, segment by segment (an injection point for tests). */
export interface GraphRunner {
  /** Strategy name, e.g. 'onnx'. */
  readonly kind: string;
  /** Number of loaded segments (0 before load). */
  readonly segments: number;
  load(spec: StageShardSpec): Promise<void>;
  /**
   * Runs segment `segment` on `input` (validated: a bad tensor throws TensorError). The
   * output is the segment's result, or this shard's partial sum when the segment reduces.
   */
  run(input: unknown, segment?: number): Promise<WireTensor>;
  unload(): Promise<void>;
}

interface LoadedGraph {
  graph: LoadableGraph;
  session: ort.InferenceSession;
}

export class OnnxGraphRunner implements GraphRunner {
  readonly kind = 'onnx';
  private loadedGraphs: LoadedGraph[] = [];
  private readonly provider: string;
  private readonly intraOpThreads: number | undefined;

  constructor(options: Partial<OrtSettings> = {}) {
    this.provider = options.provider ?? WORKER_DEFAULTS.ort.provider;
    this.intraOpThreads = options.intraOpThreads;
  }

  get segments(): number {
    return this.loadedGraphs.length;
  }

  async load(spec: StageShardSpec): Promise<void> {
    if (this.loadedGraphs.length > 0) await this.unload();
    if (spec.graphs.length === 0) throw new Error('nothing to load: the stage shard has no graphs');
    const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: [this.provider] };
    if (this.intraOpThreads !== undefined) sessionOptions.intraOpNumThreads = this.intraOpThreads;
    const loaded: LoadedGraph[] = [];
    try {
      for (const graph of spec.graphs) {
        let session: ort.InferenceSession;
        try {
          session = await ort.InferenceSession.create(graph.bytes, sessionOptions);
        } catch (err) {
          throw new Error(
            `cannot load graph ${graph.name} on execution provider "${this.provider}": ${(err as Error).message}`,
          );
        }
        loaded.push({ graph, session });
        if (!session.inputNames.includes(graph.input.name) || !session.outputNames.includes(graph.output.name)) {
          throw new Error(
            `graph ${graph.name} has inputs [${session.inputNames}] and outputs [${session.outputNames}], expected ${graph.input.name} → ${graph.output.name}`,
          );
        }
      }
    } catch (err) {
      await Promise.all(loaded.map((l) => l.session.release()));
      throw err;
    }
    this.loadedGraphs = loaded;
  }

  async run(input: unknown, segment = 0): Promise<WireTensor> {
    const loaded = this.loadedGraphs[segment];
    if (!loaded) {
      throw new Error(
        this.loadedGraphs.length === 0
          ? 'executor has no graph loaded'
          : `no segment ${segment}; loaded segments 0..${this.loadedGraphs.length - 1}`,
      );
    }
    const { graph, session } = loaded;
    const tensor = parseWireTensor(input, graph.input);
    const feeds = { [graph.input.name]: new ort.Tensor('float32', float32Values(tensor), tensor.shape) };
    const results = await session.run(feeds);
    const out = results[graph.output.name];
    if (out?.type !== 'float32') throw new Error(`graph ${graph.name} produced no float32 "${graph.output.name}"`);
    return wireTensor(out.data as Float32Array, [...out.dims]);
  }

  async unload(): Promise<void> {
    const loaded = this.loadedGraphs;
    this.loadedGraphs = [];
    await Promise.all(loaded.map((l) => l.session.release()));
  }
}
