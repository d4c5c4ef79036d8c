// Executors run the graphs of one (stage, shard): one per segment of the stage, in order.
// The ONNX implementation holds one InferenceSession per graph, created once at load.
import * as ort from 'onnxruntime-node';
import type { TensorSpec } from './tensor-spec.js';
import { float32Values, parseWireTensor, wireTensor, type WireTensor } from './tensor.js';

/** One loadable graph: its boundary tensors and its serialised ONNX model. */
export interface LoadableGraph {
  name: string;
  input: TensorSpec;
  output: TensorSpec;
  bytes: Uint8Array;
}

/** What an executor loads: the graphs of one shard of one stage, in segment order. */
export interface StageShardSpec {
  graphs: LoadableGraph[];
}

export interface Executor {
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

export interface OnnxExecutorOptions {
  /** onnxruntime execution provider: 'cpu' (default), 'cuda', ... */
  provider?: string;
  /**
   * Threads per session for intra-op parallelism; default MESHSERVE_ORT_THREADS, else
   * onnxruntime's own default (one per core). 1 is the right value for one shard per core,
   * and it also loads sessions about 10× faster (no thread pool per session).
   */
  intraOpThreads?: number;
}

export const ORT_PROVIDER_ENV = 'MESHSERVE_ORT_PROVIDER';
export const ORT_THREADS_ENV = 'MESHSERVE_ORT_THREADS';

/** The execution provider chosen by MESHSERVE_ORT_PROVIDER, default 'cpu'. */
export function ortProviderFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const value = env[ORT_PROVIDER_ENV]?.trim();
  return value ? value : 'cpu';
}

/** Intra-op threads from MESHSERVE_ORT_THREADS (a positive integer), or undefined when unset. */
export function ortThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env[ORT_THREADS_ENV]?.trim();
  if (!value) return undefined;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`${ORT_THREADS_ENV} must be a positive integer, got "${value}"`);
  return threads;
}

interface LoadedGraph {
  graph: LoadableGraph;
  session: ort.InferenceSession;
}

export class OnnxExecutor implements Executor {
  readonly kind = 'onnx';
  private loadedGraphs: LoadedGraph[] = [];
  private readonly provider: string;
  private readonly intraOpThreads: number | undefined;

  constructor(options: OnnxExecutorOptions = {}) {
    this.provider = options.provider ?? ortProviderFromEnv();
    this.intraOpThreads = options.intraOpThreads ?? ortThreadsFromEnv();
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
          throw new Error(`cannot load graph ${graph.name} on execution provider "${this.provider}": ${(err as Error).message}`);
        }
        loaded.push({ graph, session });
        if (!session.inputNames.includes(graph.input.name) || !session.outputNames.includes(graph.output.name)) {
          throw new Error(`graph ${graph.name} has inputs [${session.inputNames}] and outputs [${session.outputNames}], expected ${graph.input.name} → ${graph.output.name}`);
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
      throw new Error(this.loadedGraphs.length === 0 ? 'executor has no graph loaded' : `no segment ${segment}; loaded segments 0..${this.loadedGraphs.length - 1}`);
    }
    const { graph, session } = loaded;
    const tensor = parseWireTensor(input, graph.input);
    const feeds = { [graph.input.name]: new ort.Tensor('float32', float32Values(tensor), tensor.shape) };
    const results = await session.run(feeds);
    const out = results[graph.output.name];
    if (!out || out.type !== 'float32') throw new Error(`graph ${graph.name} produced no float32 "${graph.output.name}"`);
    return wireTensor(out.data as Float32Array, [...out.dims]);
  }

  async unload(): Promise<void> {
    const loaded = this.loadedGraphs;
    this.loadedGraphs = [];
    await Promise.all(loaded.map((l) => l.session.release()));
  }
}
