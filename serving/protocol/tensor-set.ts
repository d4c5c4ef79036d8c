// Several named tensors in one message: the inputs of a model with more than one input, or the
// activations crossing a pipeline cut of an imported model. One tensor travels as a wire tensor
// (as for every single-input model); several as an object by tensor name, `{ "<name>": tensor }`.
import { formatShape, type TensorSpec } from '../../modelgen/tensor-spec.js';
import { parseWireTensor, TensorError, type WireTensor } from './tensor.js';

/** Checks a received value against the tensors it must hold; returns them by name. */
export function parseTensorSet(value: unknown, specs: readonly TensorSpec[]): Record<string, WireTensor> {
  if (specs.length === 1) return { [specs[0].name]: parseWireTensor(value, specs[0]) };
  const expected = specs.map((s) => `"${s.name}" (float32 ${formatShape(s.shape)})`).join(', ');
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'dtype' in value)
    throw new TensorError('malformed', `expected an object of tensors by name: ${expected}`);
  const record = value as Record<string, unknown>;
  const out: Record<string, WireTensor> = {};
  for (const spec of specs) out[spec.name] = parseWireTensor(record[spec.name], spec);
  return out;
}

/** The message value of tensors by name: the tensor itself when `specs` names one. */
export function tensorSetValue(tensors: Readonly<Record<string, WireTensor>>, specs: readonly TensorSpec[]): unknown {
  if (specs.length === 1) return tensors[specs[0].name];
  return Object.fromEntries(specs.map((s) => [s.name, tensors[s.name]]));
}
