// What runs one stage shard on a device. The GPU worker owns the queue (one job at a time per
// device) and the messaging; an executor only loads stage weights and runs a job. Strategies:
// 'sim' (sim-executor.ts, takes exactly the profiled stage time) and ONNX (actors/onnx/executor.ts
// runs one stage shard; an adapter loads one OnnxExecutor per model of the assignment).

/** One stage shard a device is given by a placement. */
export interface StageAssignment {
  /** Unique per (placement version, group, stage, shard): `<group>/<stage>/<shard>`. */
  readonly key: string;
  readonly version: number;
  readonly group: string;
  readonly stage: number;
  readonly shard: number;
  readonly pp: number;
  readonly op: number;
  /** Models of the group with this stage's time (seconds, including the pipeline penalty). */
  readonly models: ReadonlyArray<{ readonly name: string; readonly seconds: number }>;
}

export interface StageJob {
  readonly assignment: string;
  readonly model: string;
  readonly input: unknown;
  /** Epoch seconds the work reached the device (a job cannot start before). */
  readonly receivedAt: number;
  /** How late the previous stage sent it after its finish (seconds; StageWork.late). */
  readonly upstreamLate?: number;
}

export interface StageResult {
  readonly output: unknown;
  /** Epoch seconds the device started and finished the job. */
  readonly start: number;
  readonly finish: number;
}

export interface StageExecutor {
  /** Strategy name, registered with the device: 'sim', 'onnx', ... */
  readonly kind: string;
  load(assignment: StageAssignment): Promise<void>;
  /** Runs one job; the worker calls it for one job at a time. */
  run(job: StageJob): Promise<StageResult>;
  unload(assignmentKey: string): Promise<void>;
  /**
   * Merges the outputs of a stage's intra-operator shards (in shard order) into the stage's
   * output; default: shard 0's output (the simulated device passes its input through).
   */
  combine?(outputs: readonly unknown[]): unknown;
}

export function assignmentKey(group: string, stage: number, shard: number): string {
  return `${group}/${stage}/${shard}`;
}
