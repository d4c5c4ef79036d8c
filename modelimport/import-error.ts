// What can go wrong when a model comes in, each with a one-line reason (and nothing stored).

export type ImportErrorCode =
  | 'not-onnx' // the bytes are not an ONNX model
  | 'truncated' // an ONNX model cut short
  | 'unsupported' // a valid model meshserve cannot serve (external weights, a non-float32 input, …)
  | 'refused' // onnxruntime-node will not load or run it
  | 'dynamic-shape' // an input with dynamic dimensions and no shape given
  | 'input-shape' // a given shape that does not fit the model's input
  | 'verification'; // no stage plan reproduces the whole model's outputs

export class ImportError extends Error {
  constructor(
    readonly code: ImportErrorCode,
    message: string,
  ) {
    // One line: onnxruntime's reasons, quoted in them, span several.
    super(message.replace(/\s*\n\s*/g, ' ').trim());
    this.name = 'ImportError';
  }
}
