// Emitting the transformer's layers as ONNX graphs: any run of consecutive layers, as one shard of
// each (transformer.ts says how a layer is sharded), and the whole model as the single-device
// reference.
import { floatAttr, GraphBuilder, intAttr, intsAttr } from './graph-builder.js';
import { splitRange, type TensorSpec } from './tensor-spec.js';
import {
  type Layer,
  modelIO,
  type ShardIndex,
  SINGLE_SHARD,
  type TransformerSpec,
  TransformerWeights,
  transformerLayers,
} from './transformer.js';

/** One graph to emit: a run of consecutive layers, as one shard of each. */
export interface LayerGraphRequest {
  name: string;
  layers: Layer[];
  shard: ShardIndex;
  input: TensorSpec;
  output: TensorSpec;
}

export interface EmittedGraph {
  bytes: Uint8Array;
  params: number;
}

export function buildLayerGraph(weights: TransformerWeights, request: LayerGraphRequest): EmittedGraph {
  const { layers, shard } = request;
  if (layers.length === 0) throw new Error(`graph ${request.name}: no layers`);
  if (shard.count > 1 && layers.length > 1) {
    // A sharded graph may hold one layer only: its partial sum must be reduced before the next.
    throw new Error(`graph ${request.name}: a shard graph holds exactly one layer, got ${layers.length}`);
  }
  const g = new GraphBuilder(request.name);
  let value = g.input(request.input.name, request.input.shape);
  const emitter = new LayerEmitter(g, weights, shard);
  for (const layer of layers) value = emitter.emit(layer, value);
  g.output(g.node('Identity', [value], request.output.name), request.output.shape);
  return { bytes: g.toModelBytes(), params: g.parameterCount() };
}

/** The whole model as one graph (the single-device reference). */
export function buildFullModel(spec: TransformerSpec, weights = new TransformerWeights(spec)): EmittedGraph {
  return buildLayerGraph(weights, {
    name: spec.name,
    layers: transformerLayers(spec),
    shard: SINGLE_SHARD,
    ...modelIO(spec),
  });
}

const LN_EPSILON = 1e-5;

class LayerEmitter {
  constructor(
    private readonly g: GraphBuilder,
    private readonly w: TransformerWeights,
    private readonly shard: ShardIndex,
  ) {}

  emit(layer: Layer, x: string): string {
    switch (layer.kind) {
      case 'input_proj':
        return this.rowSharded(layer.id, x, this.w.spec.inputDim, this.w.spec.hidden);
      case 'attn':
        return this.attention(layer.id, x, this.layerNorm(`block${layer.block}.ln1`, x));
      case 'mlp':
        return this.mlp(layer.id, x, this.layerNorm(`block${layer.block}.ln2`, x));
      case 'head':
        return this.rowSharded(layer.id, this.layerNorm('head.ln', x), this.w.spec.hidden, this.w.spec.outputDim);
    }
  }

  private get sharded(): boolean {
    return this.shard.count > 1;
  }

  private layerNorm(prefix: string, x: string): string {
    const H = this.w.spec.hidden;
    const gamma = this.g.floatInit(`${prefix}.gamma`, [H], this.w.lnScale(`${prefix}.gamma`, H));
    const beta = this.g.floatInit(`${prefix}.beta`, [H], this.w.lnShift(`${prefix}.beta`, H));
    return this.g.node('LayerNormalization', [x, gamma, beta], `${prefix}.out`, {
      axis: intAttr(-1),
      epsilon: floatAttr(LN_EPSILON),
    });
  }

  /** x·W + b where this shard keeps rows [r0, r1) of W and the same slice of x's last axis. */
  private rowSharded(prefix: string, x: string, fanIn: number, fanOut: number): string {
    const [r0, r1] = splitRange(fanIn, this.shard.count, this.shard.index);
    const full = this.w.matrix(`${prefix}.w`, fanIn, fanOut);
    const xs = this.sharded ? this.sliceLastAxis(`${prefix}.x`, x, r0, r1) : x;
    const product = this.g.node(
      'MatMul',
      [xs, this.g.floatInit(`${prefix}.w`, [r1 - r0, fanOut], rowSlice(full, fanOut, r0, r1))],
      `${prefix}.matmul`,
    );
    return this.finishPartial(prefix, product, fanOut);
  }

  private attention(prefix: string, x: string, ln: string): string {
    const { hidden: H, heads } = this.w.spec;
    const headDim = H / heads;
    const [h0, h1] = splitRange(heads, this.shard.count, this.shard.index);
    const [c0, c1] = [h0 * headDim, h1 * headDim];
    const localHeads = h1 - h0;
    const project = (which: 'q' | 'k' | 'v', perm: number[]): string => {
      const full = this.w.matrix(`${prefix}.w${which}`, H, H);
      const weight = this.g.floatInit(`${prefix}.w${which}`, [H, c1 - c0], columnSlice(full, H, c0, c1));
      const bias = this.g.floatInit(
        `${prefix}.b${which}`,
        [c1 - c0],
        this.w.bias(`${prefix}.b${which}`, H).slice(c0, c1),
      );
      const projected = this.g.node(
        'Add',
        [this.g.node('MatMul', [ln, weight], `${prefix}.${which}_mm`), bias],
        `${prefix}.${which}`,
      );
      const split = this.g.node(
        'Reshape',
        [projected, this.g.int64Init(`${prefix}.heads_shape`, [0, 0, localHeads, headDim])],
        `${prefix}.${which}_heads`,
      );
      return this.g.node('Transpose', [split], `${prefix}.${which}_t`, { perm: intsAttr(perm) });
    };
    const q = project('q', [0, 2, 1, 3]); // [B, h, S, d]
    const k = project('k', [0, 2, 3, 1]); // [B, h, d, S]
    const v = project('v', [0, 2, 1, 3]); // [B, h, S, d]
    const scores = this.g.node(
      'Mul',
      [this.g.node('MatMul', [q, k], `${prefix}.qk`), this.g.floatScalar(1 / Math.sqrt(headDim))],
      `${prefix}.scores`,
    );
    const probs = this.g.node('Softmax', [scores], `${prefix}.probs`, { axis: intAttr(-1) });
    const context = this.g.node(
      'Transpose',
      [this.g.node('MatMul', [probs, v], `${prefix}.ctx_heads`)],
      `${prefix}.ctx_t`,
      { perm: intsAttr([0, 2, 1, 3]) },
    );
    const merged = this.g.node(
      'Reshape',
      [context, this.g.int64Init(`${prefix}.merge_shape`, [0, 0, c1 - c0])],
      `${prefix}.ctx`,
    );
    const wo = this.g.floatInit(`${prefix}.wo`, [c1 - c0, H], rowSlice(this.w.matrix(`${prefix}.wo`, H, H), H, c0, c1));
    const out = this.g.node('MatMul', [merged, wo], `${prefix}.out_mm`);
    return this.finishResidual(prefix, out, x, 'bo');
  }

  private mlp(prefix: string, x: string, ln: string): string {
    const { hidden: H, ffn: F } = this.w.spec;
    const [f0, f1] = splitRange(F, this.shard.count, this.shard.index);
    const w1 = this.g.floatInit(
      `${prefix}.w1`,
      [H, f1 - f0],
      columnSlice(this.w.matrix(`${prefix}.w1`, H, F), F, f0, f1),
    );
    const b1 = this.g.floatInit(`${prefix}.b1`, [f1 - f0], this.w.bias(`${prefix}.b1`, F).slice(f0, f1));
    const hiddenAct = this.gelu(
      prefix,
      this.g.node('Add', [this.g.node('MatMul', [ln, w1], `${prefix}.fc1_mm`), b1], `${prefix}.fc1`),
    );
    const w2 = this.g.floatInit(`${prefix}.w2`, [f1 - f0, H], rowSlice(this.w.matrix(`${prefix}.w2`, F, H), H, f0, f1));
    const out = this.g.node('MatMul', [hiddenAct, w2], `${prefix}.fc2_mm`);
    return this.finishResidual(prefix, out, x, 'b2');
  }

  /** Exact GELU, 0.5·x·(1 + erf(x/√2)), from opset-17 primitives. */
  private gelu(prefix: string, x: string): string {
    const erf = this.g.node(
      'Erf',
      [this.g.node('Mul', [x, this.g.floatScalar(Math.SQRT1_2)], `${prefix}.gelu_scaled`)],
      `${prefix}.gelu_erf`,
    );
    const onePlus = this.g.node('Add', [erf, this.g.floatScalar(1)], `${prefix}.gelu_1p`);
    return this.g.node(
      'Mul',
      [this.g.node('Mul', [x, onePlus], `${prefix}.gelu_x`), this.g.floatScalar(0.5)],
      `${prefix}.gelu`,
    );
  }

  /** Shard 0 adds the bias once; the other shards' outputs are pure partial sums. */
  private finishPartial(prefix: string, product: string, size: number): string {
    if (this.shard.index !== 0) return product;
    const bias = this.g.floatInit(`${prefix}.b`, [size], this.w.bias(`${prefix}.b`, size));
    return this.g.node('Add', [product, bias], `${prefix}.out`);
  }

  /** Shard 0 adds the bias and the residual once. */
  private finishResidual(prefix: string, product: string, residual: string, biasName: string): string {
    if (this.shard.index !== 0) return product;
    const H = this.w.spec.hidden;
    const bias = this.g.floatInit(`${prefix}.${biasName}`, [H], this.w.bias(`${prefix}.${biasName}`, H));
    return this.g.node('Add', [this.g.node('Add', [product, bias], `${prefix}.biased`), residual], `${prefix}.out`);
  }

  private sliceLastAxis(prefix: string, x: string, start: number, end: number): string {
    const g = this.g;
    return g.node(
      'Slice',
      [
        x,
        g.int64Init(`${prefix}.starts`, [start]),
        g.int64Init(`${prefix}.ends`, [end]),
        g.int64Init(`${prefix}.axes`, [-1]),
      ],
      `${prefix}.slice`,
    );
  }
}

/** Rows [r0, r1) of a row-major matrix with `cols` columns. */
function rowSlice(m: Float32Array, cols: number, r0: number, r1: number): Float32Array {
  return m.subarray(r0 * cols, r1 * cols);
}

/** Columns [c0, c1) of a row-major matrix with `cols` columns, as a new row-major matrix. */
function columnSlice(m: Float32Array, cols: number, c0: number, c1: number): Float32Array {
  if (c0 === 0 && c1 === cols) return m;
  const rows = m.length / cols;
  const width = c1 - c0;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols + c0, r * cols + c1), r * width);
  return out;
}
