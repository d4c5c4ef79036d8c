// A small typed helper for building ONNX graphs (float32 tensors, default domain) and
// serialising them to model bytes. Field numbers follow onnx.proto (ModelProto, GraphProto,
// NodeProto, TensorProto, ValueInfoProto, AttributeProto).
import { ProtobufWriter } from './protobuf-writer.js';

/** The ONNX opset the builder targets; LayerNormalization needs 17. */
export const OPSET = 17;
/** IR version 8 is the one that goes with opset 17. */
const IR_VERSION = 8;

const TENSOR_FLOAT = 1;
const TENSOR_INT64 = 7;

/** A dimension: a fixed size, or a symbolic name such as 'batch'. */
export type Dim = number | string;

export type Attribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] };

export const intAttr = (value: number): Attribute => ({ kind: 'int', value });
export const floatAttr = (value: number): Attribute => ({ kind: 'float', value });
export const intsAttr = (value: number[]): Attribute => ({ kind: 'ints', value });

interface NodeDef {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
}

interface InitializerDef {
  name: string;
  dims: number[];
  dataType: number;
  raw: Uint8Array;
}

interface ValueDef {
  name: string;
  dims: Dim[];
}

export class GraphBuilder {
  private readonly nodes: NodeDef[] = [];
  private readonly initializers: InitializerDef[] = [];
  private readonly inputs: ValueDef[] = [];
  private readonly outputs: ValueDef[] = [];
  private readonly usedNames = new Set<string>();
  private readonly scalars = new Map<number, string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`graph ${this.name}: value name "${name}" used twice`);
    this.usedNames.add(name);
    return name;
  }

  /** A fresh value name derived from a readable stem. */
  fresh(stem: string): string {
    let name = stem;
    while (this.usedNames.has(name)) name = `${stem}_${++this.counter}`;
    return this.claim(name);
  }

  input(name: string, dims: Dim[]): string {
    this.inputs.push({ name: this.claim(name), dims });
    return name;
  }

  /** Declares `value` (already produced by a node) as a graph output. */
  output(value: string, dims: Dim[]): void {
    this.outputs.push({ name: value, dims });
  }

  /** A float32 initializer; `data.length` must equal the product of `dims`. */
  floatInit(name: string, dims: number[], data: Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name: this.claim(name), dims, dataType: TENSOR_FLOAT, raw });
    return name;
  }

  /** A float32 scalar constant, shared by every node of the graph that uses the same value. */
  floatScalar(value: number): string {
    let name = this.scalars.get(value);
    if (name === undefined) {
      name = this.fresh(`const_${this.scalars.size}`);
      this.initializers.push({
        name,
        dims: [],
        dataType: TENSOR_FLOAT,
        raw: new Uint8Array(new Float32Array([value]).buffer),
      });
      this.scalars.set(value, name);
    }
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes, slice bounds), named after `stem`. */
  int64Init(stem: string, values: number[]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    const raw = new Uint8Array(data.buffer);
    const name = this.fresh(stem);
    this.initializers.push({ name, dims: [values.length], dataType: TENSOR_INT64, raw });
    return name;
  }

  /** Adds a node with one output and returns the output's value name. */
  node(opType: string, inputs: string[], outputStem: string, attributes: Record<string, Attribute> = {}): string {
    const output = this.fresh(outputStem);
    this.nodes.push({ opType, name: `${output}_node`, inputs, outputs: [output], attributes });
    return output;
  }

  /** Number of float parameters held in initializers (scalar constants are not parameters). */
  parameterCount(): number {
    return this.initializers
      .filter((i) => i.dataType === TENSOR_FLOAT && i.dims.length > 0)
      .reduce((sum, i) => sum + i.dims.reduce((a, b) => a * b, 1), 0);
  }

  toModelBytes(producer = 'meshserve'): Uint8Array {
    if (!isLittleEndian()) throw new Error('ONNX raw_data is little-endian; this host is not');
    const w = new ProtobufWriter();
    w.int(1, IR_VERSION); // ModelProto.ir_version
    w.string(2, producer); // producer_name
    w.message(7, (g) => this.writeGraph(g)); // graph
    w.message(8, (o) => o.string(1, '').int(2, OPSET)); // opset_import { domain, version }
    return w.finish();
  }

  private writeGraph(g: ProtobufWriter): void {
    for (const n of this.nodes) g.message(1, (w) => writeNode(w, n)); // GraphProto.node
    g.string(2, this.name); // name
    for (const t of this.initializers) g.message(5, (w) => writeTensor(w, t)); // initializer
    for (const v of this.inputs) g.message(11, (w) => writeValueInfo(w, v)); // input
    for (const v of this.outputs) g.message(12, (w) => writeValueInfo(w, v)); // output
  }
}

function writeNode(w: ProtobufWriter, n: NodeDef): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, attr] of Object.entries(n.attributes)) w.message(5, (a) => writeAttribute(a, name, attr));
}

function writeAttribute(w: ProtobufWriter, name: string, attr: Attribute): void {
  w.string(1, name);
  // AttributeProto.type: FLOAT = 1, INT = 2, INTS = 7; values in f = 2, i = 3, ints = 8.
  switch (attr.kind) {
    case 'float':
      w.int(20, 1).float(2, attr.value);
      break;
    case 'int':
      w.int(20, 2).int(3, attr.value);
      break;
    case 'ints':
      w.int(20, 7).repeatedInts(8, attr.value);
      break;
  }
}

function writeTensor(w: ProtobufWriter, t: InitializerDef): void {
  w.repeatedInts(1, t.dims); // dims
  w.int(2, t.dataType); // data_type
  w.string(8, t.name); // name
  w.bytes(9, t.raw); // raw_data
}

function writeValueInfo(w: ProtobufWriter, v: ValueDef): void {
  w.string(1, v.name);
  // TypeProto { tensor_type = 1: { elem_type = 1, shape = 2: { dim = 1: { dim_value = 1 | dim_param = 2 } } } }
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, TENSOR_FLOAT);
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
