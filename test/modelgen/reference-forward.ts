// A plain-JS forward pass of the transformer, written from the model's definition and not
// from its graph, so the tests can check that the emitted ONNX computes what we meant.
import type { TransformerWeights } from '../../modelgen/transformer.js';

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough for a 1e-4 comparison. */
function erf(x: number): number {
  const sign = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** out[S, n] = x[S, k] · w[k, n] + b[n] */
function linear(x: Float64Array, rows: number, k: number, w: Float32Array, n: number, b: Float32Array): Float64Array {
  const out = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      let acc = b[j];
      for (let i = 0; i < k; i++) acc += x[r * k + i] * w[i * n + j];
      out[r * n + j] = acc;
    }
  }
  return out;
}

function layerNorm(x: Float64Array, rows: number, n: number, gamma: Float32Array, beta: Float32Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[r * n + i];
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (x[r * n + i] - mean) ** 2;
    variance /= n;
    const inv = 1 / Math.sqrt(variance + 1e-5);
    for (let i = 0; i < n; i++) out[r * n + i] = (x[r * n + i] - mean) * inv * gamma[i] + beta[i];
  }
  return out;
}

/** Forward pass of one sequence: input [seq, inputDim] → output [seq, outputDim]. */
export function referenceForward(w: TransformerWeights, input: Float32Array): Float64Array {
  const { seq: S, inputDim: I, hidden: H, heads, ffn: F, outputDim: O, blocks } = w.spec;
  const d = H / heads;
  let h = linear(Float64Array.from(input), S, I, w.matrix('input_proj.w', I, H), H, w.bias('input_proj.b', H));
  for (let b = 0; b < blocks; b++) {
    const p = `block${b}`;
    const ln1 = layerNorm(h, S, H, w.lnScale(`${p}.ln1.gamma`, H), w.lnShift(`${p}.ln1.beta`, H));
    const [q, k, v] = (['q', 'k', 'v'] as const).map((x) =>
      linear(ln1, S, H, w.matrix(`${p}.attn.w${x}`, H, H), H, w.bias(`${p}.attn.b${x}`, H)),
    );
    const ctx = new Float64Array(S * H);
    for (let head = 0; head < heads; head++) {
      for (let i = 0; i < S; i++) {
        const scores = new Float64Array(S);
        for (let j = 0; j < S; j++) {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q[i * H + head * d + c] * k[j * H + head * d + c];
          scores[j] = dot / Math.sqrt(d);
        }
        const max = Math.max(...scores);
        let total = 0;
        for (let j = 0; j < S; j++) total += scores[j] = Math.exp(scores[j] - max);
        for (let c = 0; c < d; c++) {
          let acc = 0;
          for (let j = 0; j < S; j++) acc += (scores[j] / total) * v[j * H + head * d + c];
          ctx[i * H + head * d + c] = acc;
        }
      }
    }
    const attn = linear(ctx, S, H, w.matrix(`${p}.attn.wo`, H, H), H, w.bias(`${p}.attn.bo`, H));
    h = h.map((x, i) => x + attn[i]);
    const ln2 = layerNorm(h, S, H, w.lnScale(`${p}.ln2.gamma`, H), w.lnShift(`${p}.ln2.beta`, H));
    const act = linear(ln2, S, H, w.matrix(`${p}.mlp.w1`, H, F), F, w.bias(`${p}.mlp.b1`, F)).map(
      (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    );
    const mlp = linear(act, S, F, w.matrix(`${p}.mlp.w2`, F, H), H, w.bias(`${p}.mlp.b2`, H));
    h = h.map((x, i) => x + mlp[i]);
  }
  const lnF = layerNorm(h, S, H, w.lnScale('head.ln.gamma', H), w.lnShift('head.ln.beta', H));
  return linear(lnF, S, H, w.matrix('head.w', H, O), O, w.bias('head.b', O));
}
