// The project's own transformer-style model: an input projection, N pre-LayerNorm blocks
// (multi-head self-attention, then a GELU MLP, each with a residual), a final LayerNorm and a
// linear head. Weights are seeded, so (size, seed) fully determines every byte we emit.
//
// Every layer can be emitted as shard j of n (Megatron style): the attention layer keeps a
// group of heads (Q/K/V column slices, output-projection row slice), the MLP keeps a slice of
// the FFN width (W1 column slice, W2 row slice), the input projection and head keep a slice of
// their input features (row slice). Each shard reads the full activation and writes a partial
// sum of the layer's full output; shard 0 also adds the bias and the residual, so the layer's
// output is exactly the element-wise sum of its shards' outputs. That sum is the only exchange
// between the shards of a stage.
import type { Dim } from './graph-builder.js';
import { uniformFloats } from './seeded-random.js';
import { splitRange, type TensorSpec } from './tensor-spec.js';

export interface TransformerSize {
  /** Sequence length (fixed in the graph). */
  seq: number;
  /** Features per input position (the input projection's fan-in). */
  inputDim: number;
  hidden: number;
  heads: number;
  ffn: number;
  blocks: number;
  /** Features per output position (the head's fan-out). */
  outputDim: number;
}

export const TRANSFORMER_SIZES = {
  tiny: { seq: 16, inputDim: 32, hidden: 64, heads: 4, ffn: 256, blocks: 4, outputDim: 16 },
  small: { seq: 32, inputDim: 64, hidden: 256, heads: 8, ffn: 1024, blocks: 8, outputDim: 32 },
  base: { seq: 64, inputDim: 128, hidden: 512, heads: 8, ffn: 2048, blocks: 8, outputDim: 64 },
} as const satisfies Record<string, TransformerSize>;

export type SizeName = keyof typeof TRANSFORMER_SIZES;
export const SIZE_NAMES = Object.keys(TRANSFORMER_SIZES) as SizeName[];
export const DEFAULT_SEED = 20230710;

export interface TransformerSpec extends TransformerSize {
  /** Model name, e.g. `transformer-tiny`. */
  name: string;
  size: SizeName;
  seed: number;
}

export function transformerSpec(size: string, seed: number = DEFAULT_SEED): TransformerSpec {
  if (!Object.hasOwn(TRANSFORMER_SIZES, size)) {
    throw new Error(`unknown model size "${size}"; known sizes: ${SIZE_NAMES.join(', ')}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(`seed must be a 32-bit unsigned integer, got ${seed}`);
  const dims = TRANSFORMER_SIZES[size as SizeName];
  return { ...dims, name: `transformer-${size}`, size: size as SizeName, seed };
}

export type LayerKind = 'input_proj' | 'attn' | 'mlp' | 'head';

/** The unit of sharding: one layer whose shards' outputs are summed. */
export interface Layer {
  id: string;
  kind: LayerKind;
  /** Block index for attn/mlp layers. */
  block?: number;
  /** Multiply-add FLOPs (2 per MAC) at batch 1. */
  flops: number;
  params: number;
}

export function transformerLayers(spec: TransformerSpec): Layer[] {
  const { seq: S, inputDim: I, hidden: H, ffn: F, outputDim: O } = spec;
  const layers: Layer[] = [{ id: 'input_proj', kind: 'input_proj', flops: 2 * S * I * H, params: I * H + H }];
  for (let b = 0; b < spec.blocks; b++) {
    // Q/K/V and output projections, plus the S×S score and context products.
    layers.push({
      id: `block${b}.attn`,
      kind: 'attn',
      block: b,
      flops: 8 * S * H * H + 4 * S * S * H,
      params: 4 * H * H + 4 * H + 2 * H,
    });
    layers.push({
      id: `block${b}.mlp`,
      kind: 'mlp',
      block: b,
      flops: 4 * S * H * F,
      params: 2 * H * F + F + H + 2 * H,
    });
  }
  layers.push({ id: 'head', kind: 'head', flops: 2 * S * H * O, params: H * O + O + 2 * H });
  return layers;
}

/**
 * Parameters held by shard `shard` of a layer: its slices, the replicated LayerNorm, and (on
 * shard 0) the biases added after the reduction.
 */
export function layerShardParams(spec: TransformerSpec, layer: Layer, shard: ShardIndex): number {
  const { inputDim: I, hidden: H, heads, ffn: F, outputDim: O } = spec;
  const first = shard.index === 0;
  const width = (total: number): number => {
    const [a, b] = splitRange(total, shard.count, shard.index);
    return b - a;
  };
  switch (layer.kind) {
    case 'input_proj':
      return width(I) * H + (first ? H : 0);
    case 'attn': {
      const w = width(heads) * (H / heads);
      return 2 * H + 3 * (H * w + w) + w * H + (first ? H : 0);
    }
    case 'mlp': {
      const f = width(F);
      return 2 * H + H * f + f + f * H + (first ? H : 0);
    }
    case 'head':
      return 2 * H + width(H) * O + (first ? O : 0);
  }
}

/** Shape of the tensor a layer reads. */
export function layerInput(spec: TransformerSpec, layer: Layer): Dim[] {
  return layer.kind === 'input_proj' ? ['batch', spec.seq, spec.inputDim] : ['batch', spec.seq, spec.hidden];
}

/** Shape of the tensor a layer writes. */
export function layerOutput(spec: TransformerSpec, layer: Layer): Dim[] {
  return layer.kind === 'head' ? ['batch', spec.seq, spec.outputDim] : ['batch', spec.seq, spec.hidden];
}

/** Lazily generated, cached weights of one model; each tensor has its own seeded stream. */
export class TransformerWeights {
  private readonly cache = new Map<string, Float32Array>();
  constructor(readonly spec: TransformerSpec) {}

  private tensor(name: string, count: number, halfWidth: number, centre = 0): Float32Array {
    let data = this.cache.get(name);
    if (!data) {
      data = uniformFloats(this.spec.seed, `${this.spec.name}/${name}`, count, halfWidth, centre);
      this.cache.set(name, data);
    }
    return data;
  }

  /** A [fanIn, fanOut] matrix with variance 1/fanIn, so activations keep their scale. */
  matrix(name: string, fanIn: number, fanOut: number): Float32Array {
    return this.tensor(name, fanIn * fanOut, Math.sqrt(3 / fanIn));
  }

  bias(name: string, size: number): Float32Array {
    return this.tensor(name, size, 0.02);
  }

  lnScale(name: string, size: number): Float32Array {
    return this.tensor(name, size, 0.1, 1);
  }

  lnShift(name: string, size: number): Float32Array {
    return this.tensor(name, size, 0.05);
  }
}

export interface ShardIndex {
  index: number;
  count: number;
}

export const SINGLE_SHARD: ShardIndex = { index: 0, count: 1 };

/** Input and output of the whole model. */
export function modelIO(spec: TransformerSpec): { input: TensorSpec; output: TensorSpec } {
  return {
    input: { name: 'input', shape: ['batch', spec.seq, spec.inputDim] },
    output: { name: 'output', shape: ['batch', spec.seq, spec.outputDim] },
  };
}
