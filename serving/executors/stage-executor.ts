// What runs one stage shard on a device. The GPU worker owns the queue (one job at a time per
// device) and the messaging; an executor only loads stage weights and runs a job. Strategies:
// 'sim' (sim-executor.ts, takes exactly the profiled stage time) and 'onnx'
// (onnx-stage.ts: per model of the assignment, the graphs of its generated transformer, or the
// stage file of an imported model from the model store). A sharded executor sums partial results with the stage's
// other shards through the ShardExchange the worker hands it (the worker does the messaging).
import type { GeneratedModelRef, ImportedModelRef } from '../../planner/types.js';
import type { StageFiles } from '../model-store/stage-files.js';

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
  /**
   * Models of the group with this stage's time (seconds, including the pipeline penalty) and,
   * when the profile names one, the generated model a real executor builds or the imported
   * model whose stage file it loads.
   */
  readonly models: ReadonlyArray<{
    readonly name: string;
    readonly seconds: number;
    readonly onnx?: GeneratedModelRef;
    readonly imported?: ImportedModelRef;
  }>;
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

/**
 * The all-gather between the shards of one stage for one request (op > 1): every shard
 * contributes its partial result of a segment and gets every shard's, in shard order, so all
 * shards compute the same sum before the next segment.
 */
export interface ShardExchange {
  /** This shard's index and the stage's number of shards. */
  readonly shard: number;
  readonly shards: number;
  /** Sends `partial` to the other shards; resolves with all `shards` partials of `segment` (this one included). */
  allGather(segment: number, partial: unknown): Promise<unknown[]>;
}

export interface StageExecutor {
  /** Strategy name, registered with the device: 'sim', 'onnx', ... */
  readonly kind: string;
  /** Loads a stage shard; `files` gives the stage files of imported models (the worker's model store). */
  load(assignment: StageAssignment, files?: StageFiles): Promise<void>;
  /**
   * Runs one job. The worker starts one job at a time; a job waiting in `shards.allGather`
   * lets the device start its next job meanwhile. `shards` is given for sharded stages only.
   */
  run(job: StageJob, shards?: ShardExchange): Promise<StageResult>;
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
