// Core data types shared by every part of the planner: profiles, placements, workloads and
// simulation results. Plain data only (no classes), so they serialise to JSON / msgpack as is.
// Units: seconds for time, bytes for memory.

/** A mesh group's parallel config: `pp` pipeline stages (inter-op) × `op` devices per stage (intra-op). */
export interface ParallelConfig {
  readonly pp: number;
  readonly op: number;
}

/** Stable key of a config inside a profile's table, e.g. "pp2-op1". */
export function configKey(c: ParallelConfig): string {
  return `pp${c.pp}-op${c.op}`;
}

/** Where a number came from: measured by our profiler, synthesised from the paper's shapes, or a labelled estimate. */
export type ProfileSource = 'measured' | 'synthesised' | 'estimated';

/** A model's latency and memory under one parallel config. */
export interface ConfigProfile {
  readonly pp: number;
  readonly op: number;
  /** Latency of each pipeline stage at batch 1, seconds; length = pp. */
  readonly stageLatency: readonly number[];
  /** Weight bytes each device of stage k holds; length = pp. */
  readonly stageWeightBytes: readonly number[];
}

export interface ModelProfile {
  readonly name: string;
  /** Latency on one device (config pp1-op1), seconds; the SLO scale is relative to this. */
  readonly singleDeviceLatency: number;
  /** Total weight bytes of the model. */
  readonly weightBytes: number;
  /** Per-config tables keyed by configKey(). A config missing here cannot host the model. */
  readonly configs: Readonly<Record<string, ConfigProfile>>;
  readonly source: ProfileSource;
  /** Free text: how the numbers were obtained (which figures were synthesised or estimated). */
  readonly notes?: string;
  /**
   * The generated transformer that really executes this model (`meshserve make-models` size and
   * weight seed): a real executor builds its stage graphs from it. Absent: profile only (simulated).
   */
  readonly onnx?: GeneratedModelRef;
  /**
   * An imported ONNX model (`meshserve import`): the stage files a real executor loads, per
   * config, from the model store. Absent: not imported.
   */
  readonly imported?: ImportedModelRef;
}

/** A generated ONNX transformer, fully determined by its size name and weight seed. */
export interface GeneratedModelRef {
  readonly size: string;
  readonly seed: number;
}

/** An imported ONNX model: where its stage files are, per config, and what it was imported from. */
export interface ImportedModelRef {
  /** sha256 (hex) of the imported file. */
  readonly sha256: string;
  /** The shape each input was imported (and is served) at. */
  readonly inputShapes: Readonly<Record<string, readonly number[]>>;
  /** The largest pp and op the import was asked for. */
  readonly maxPp: number;
  readonly maxOp: number;
  /** Stage files by configKey, in stage order. */
  readonly stages: Readonly<Record<string, readonly StoredStage[]>>;
}

/**
 * One stage of an imported model: with op = 1 one file in the model store; with op > 1 segments
 * every shard runs in turn.
 */
export interface StoredStage {
  /** The float32 tensors the stage receives and hands on, by name (a string dimension takes any size ≥ 1). */
  readonly receives: readonly StageTensor[];
  readonly sends: readonly StageTensor[];
  /** op = 1: sha256 (hex) of the stage's ONNX file, its name in the model store, and its size. */
  readonly object?: string;
  readonly bytes?: number;
  /** op > 1: the stage's segments, in order. */
  readonly segments?: readonly StoredSegment[];
}

/** A segment of a sharded stage: one file every shard runs, or one per shard whose outputs are summed. */
export interface StoredSegment {
  readonly receives: readonly StageTensor[];
  readonly sends: readonly StageTensor[];
  /** The tensor summed over the shards; absent: every shard runs the one file whole. */
  readonly reduce?: StageTensor;
  /** Model-store objects: one per shard when the segment reduces, else one. */
  readonly objects: readonly string[];
}

export interface StageTensor {
  readonly name: string;
  readonly shape: readonly (number | string)[];
}

/** One mesh group of a placement. */
export interface GroupSpec {
  /** Devices in the group; must equal config.pp * config.op. */
  readonly devices: number;
  readonly config: ParallelConfig;
  /** Names of the models this group hosts (each uses all the group's devices). */
  readonly models: readonly string[];
}

/** A placement: how the cluster is split into groups, and what each group hosts. */
export interface Placement {
  readonly groups: readonly GroupSpec[];
}

export interface ClusterSpec {
  readonly devices: number;
  /** Weight-memory budget per device, bytes. */
  readonly memoryPerDevice: number;
}

/**
 * A workload in columnar form, sorted by arrival time. Index i is one request.
 * Typed arrays keep the simulator's hot loop free of per-request objects.
 */
export interface Workload {
  /** Model names; `model[i]` indexes into this list. */
  readonly modelNames: readonly string[];
  /** Arrival time of each request, seconds, non-decreasing. */
  readonly arrival: Float64Array;
  /** Model index of each request. */
  readonly model: Int32Array;
  /** SLO of each request, seconds (Infinity = none). */
  readonly slo: Float64Array;
  /** Span of the workload, seconds (at least the last arrival). */
  readonly duration: number;
}

/**
 * How a request picks among the groups hosting its model.
 * - earliest-finish: compute the tentative finish on every hosting group, take the minimum (ours).
 * - last-stage-clock: the group whose last stage frees first (the reference's simulator).
 * - fewest-inflight: the group with the fewest unfinished requests (the reference's runtime).
 */
export type DispatchPolicy = 'earliest-finish' | 'last-stage-clock' | 'fewest-inflight';

/** Which implementation runs the simulator's loops; both give identical results. */
export type SimEngine = 'wasm' | 'js';

export interface SimOptions {
  readonly policy?: DispatchPolicy;
  /**
   * 'wasm' (default): the WebAssembly kernel, falling back to the JS loops for workloads it cannot
   * take (negative times); 'js': the JS loops, the reference implementation.
   */
  readonly engine?: SimEngine;
  /** Pipeline penalty per stage: stage latency × (1 + stagePenalty·pp). Reference: 0.009. */
  readonly stagePenalty?: number;
  /** Fixed per-request overhead added to every finish time, seconds. Reference: 0.011. */
  readonly overhead?: number;
  /** Keep per-request records (costs memory proportional to the number of requests). */
  readonly records?: boolean;
  /** Drop requests arriving in the first/last `trim` seconds from the reported statistics. */
  readonly trim?: number;
  /**
   * Admission margin, seconds: reject when finish + margin − arrival > SLO (the reference runtime uses
   * 0.005). Default 0.
   */
  readonly admissionMargin?: number;
  /**
   * Per group of the placement (in order), when it can start serving, seconds on the workload's
   * clock: its stage clocks start there instead of at 0 (a group still loading weights after a
   * swap). Requests arriving earlier wait for it, go to another group or are rejected. Default 0.
   */
  readonly groupReady?: readonly number[];
  /**
   * The stage clocks to start from instead (seconds on the workload's clock, each ≥ 0), one per
   * stage of each group, group by group in placement order: the queues left by what ran before
   * (a schedule's previous window). Not with `groupReady`.
   */
  readonly startClocks?: Float64Array;
  /** Filled at the end of the run with the stage clocks (the layout of `startClocks`). */
  readonly endClocks?: Float64Array;
}

export interface LatencySummary {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

export interface ModelResult {
  readonly name: string;
  readonly requests: number;
  readonly good: number;
  readonly rejected: number;
  readonly attainment: number;
}

/** Per-request outcome, only when SimOptions.records is set. */
export interface RequestRecords {
  /** Group index that served the request, or -1 when rejected / unplaceable. */
  readonly group: Int32Array;
  /** Start of its first stage, seconds (NaN when rejected). */
  readonly start: Float64Array;
  /** Finish time including the overhead, seconds (NaN when rejected). */
  readonly finish: Float64Array;
  /** 1 when it met its SLO. */
  readonly good: Uint8Array;
}

export interface SimResult {
  readonly requests: number;
  readonly good: number;
  /** Requests turned away: SLO early rejections plus requests whose model no group hosts. */
  readonly rejected: number;
  /** Requests whose model no group hosts (included in `rejected`). */
  readonly unplaced: number;
  /** Requests accepted and run (requests − rejected). */
  readonly served: number;
  /** good / requests (rejected requests count as misses). */
  readonly attainment: number;
  /** Good requests per second of workload duration. */
  readonly goodput: number;
  /** Latency of the accepted (served) requests. */
  readonly latency: LatencySummary;
  readonly perModel: readonly ModelResult[];
  /** Busy fraction of each group over the workload duration (mean over its stages). */
  readonly groupUtilisation: readonly number[];
  /** Requests the dispatch policy sent to each group (accepted or rejected there). */
  readonly groupRouted: readonly number[];
  /** Requests each group accepted and ran. */
  readonly groupServed: readonly number[];
  readonly records?: RequestRecords;
}
