// A simulated device: a job takes exactly its profiled stage time. The device keeps one absolute
// timeline (`freeAt`): a job starts at max(arrival at the device, freeAt) and finishes a stage
// time later, whatever the timers did, so timer lateness never accumulates along a queue.
// Along a pipeline, a stage's arrival is taken back by the upstream simulated stage's timer
// lateness (StageWork.late) — so timers do not accumulate there either, while the hops count —
// and only the stages whose lateness nobody takes back wait precisely (CPU-polling the last
// stretch): the last stage, whose completion goes to the client, and sharded stages, whose
// shards synchronise. That keeps a laptop's 64 simulated GPUs from spinning on every stage.
// Output = input (the activation is passed through), so a round trip echoes the request's input.
import { DEFAULT_POLL_MS, sleepUntil } from '../clock.js';
import type { StageAssignment, StageExecutor, StageJob, StageResult } from './stage-executor.js';

interface LoadedStage {
  readonly seconds: Map<string, number>;
  /** Wait precisely: the last stage, or a sharded one. */
  readonly precise: boolean;
}

export class SimExecutor implements StageExecutor {
  readonly kind = 'sim';
  private readonly stages = new Map<string, LoadedStage>();
  private freeAt = 0;

  /** `pollMs`: how much of a precise wait's end is polled (clock.ts). */
  constructor(private readonly pollMs: number = DEFAULT_POLL_MS) {}

  async load(assignment: StageAssignment): Promise<void> {
    this.stages.set(assignment.key, {
      seconds: new Map(assignment.models.map((m) => [m.name, m.seconds])),
      precise: assignment.stage === assignment.pp - 1 || assignment.op > 1,
    });
  }

  async run(job: StageJob): Promise<StageResult> {
    const stage = this.stages.get(job.assignment);
    if (!stage) throw new Error(`stage ${job.assignment} is not loaded on this device`);
    const seconds = stage.seconds.get(job.model);
    if (seconds === undefined) throw new Error(`model "${job.model}" is not loaded for stage ${job.assignment}`);
    const start = Math.max(job.receivedAt - (job.upstreamLate ?? 0), this.freeAt);
    const finish = start + seconds;
    this.freeAt = finish;
    await sleepUntil(finish, stage.precise ? this.pollMs : 0);
    return { output: job.input, start, finish };
  }

  async unload(assignmentKey: string): Promise<void> {
    this.stages.delete(assignmentKey);
  }
}
