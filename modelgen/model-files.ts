// Writing the generated models to disk with a manifest that says what each file is. The
// manifest holds no timestamps, so the same sizes and seed give the same bytes everywhere.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OPSET } from './graph-builder.js';
import type { TensorSpec } from './tensor-spec.js';
import { modelIO, type SizeName, type TransformerSize, transformerSpec } from './transformer.js';
import { buildFullModel } from './transformer-graphs.js';

export const MANIFEST_FILE = 'manifest.json';

/** sha256 of bytes, hex: how model files are told apart (and named in the model store). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ManifestEntry {
  name: string;
  size: SizeName;
  seed: number;
  file: string;
  bytes: number;
  sha256: string;
  params: number;
  dims: TransformerSize;
  input: TensorSpec & { dtype: 'float32' };
  output: TensorSpec & { dtype: 'float32' };
}

export interface ModelManifest {
  generator: 'meshserve make-models';
  opset: number;
  models: ManifestEntry[];
}

export interface WriteModelsOptions {
  outDir: string;
  sizes: string[];
  seed?: number;
}

/** Generates each size's full model into `outDir` and writes `manifest.json` beside them. */
export async function writeModels(options: WriteModelsOptions): Promise<ModelManifest> {
  const specs = options.sizes.map((size) => transformerSpec(size, options.seed));
  await mkdir(options.outDir, { recursive: true });
  const models: ManifestEntry[] = [];
  for (const spec of specs) {
    const { bytes, params } = buildFullModel(spec);
    const file = `${spec.name}.onnx`;
    await writeFile(join(options.outDir, file), bytes);
    const { seq, inputDim, hidden, heads, ffn, blocks, outputDim } = spec;
    const io = modelIO(spec);
    models.push({
      name: spec.name,
      size: spec.size,
      seed: spec.seed,
      file,
      bytes: bytes.byteLength,
      sha256: sha256Hex(bytes),
      params,
      dims: { seq, inputDim, hidden, heads, ffn, blocks, outputDim },
      input: { ...io.input, dtype: 'float32' },
      output: { ...io.output, dtype: 'float32' },
    });
  }
  const manifest: ModelManifest = { generator: 'meshserve make-models', opset: OPSET, models };
  await writeFile(join(options.outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
