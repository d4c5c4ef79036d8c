// A simulated device: a job takes exactly its profiled stage time. The device keeps one absolute
// timeline (`freeAt`): a job starts at max(arrival at the device, freeAt) and finishes a stage
// time later, whatever the timers did, so timer lateness never accumulates along a queue.
// Output = input (the activation is passed through), so a round trip echoes the request's input.
import { sleepUntil } from './clock.js';
import type { StageAssignment, StageExecutor, StageJob, StageResult } from './executor.js';

export class SimExecutor implements StageExecutor {
  readonly kind = 'sim';
  private readonly seconds = new Map<string, Map<string, number>>();
  private freeAt = 0;

  async load(assignment: StageAssignment): Promise<void> {
    this.seconds.set(assignment.key, new Map(assignment.models.map((m) => [m.name, m.seconds])));
  }

  async run(job: StageJob): Promise<StageResult> {
    const byModel = this.seconds.get(job.assignment);
    if (!byModel) throw new Error(`stage ${job.assignment} is not loaded on this device`);
    const seconds = byModel.get(job.model);
    if (seconds === undefined) throw new Error(`model "${job.model}" is not loaded for stage ${job.assignment}`);
    const start = Math.max(job.receivedAt, this.freeAt);
    const finish = start + seconds;
    this.freeAt = finish;
    await sleepUntil(finish);
    return { output: job.input, start, finish };
  }

  async unload(assignmentKey: string): Promise<void> {
    this.seconds.delete(assignmentKey);
  }
}
