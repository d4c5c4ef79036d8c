// The work of a GPU worker: one queue per device for all its stages, run one job at a time — a
// real pipeline, each stage takes its next request as soon as it is free. Shards of a sharded
// stage (op > 1) all receive the work; an executor that sums partial results between segments
// exchanges them on `.reduce.<shard>` (shard-gather.ts; a job waiting for its peers lets the
// device start the next job); non-leaders report on `.sync`, the leader (shard 0) forwards once
// every shard is done. The last stage reports to the dispatcher's completion subject. Malformed
// messages are dropped, and answered with an error when they carry a reply subject.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  assertWithinLimit,
  decode,
  encode,
  type Logger,
  Mailbox,
  type Outbox,
  PayloadTooLargeError,
  parseOrThrow,
  respondMalformed,
  safeSubscribe,
} from '../../bus/index.js';
import { nowSeconds } from '../clock.js';
import type { ShardExchange, StageAssignment, StageExecutor, StageResult } from '../executors/stage-executor.js';
import { type Completion, StagePartial, StageSync, StageWork } from '../protocol/messages.js';
import type { RuntimeSubjects } from '../protocol/subjects.js';
import { CompletionSender } from './completions.js';
import { ShardGather } from './shard-gather.js';
import { type ShardReport, StageReports } from './stage-reports.js';

export interface LoadedStage {
  readonly assignment: StageAssignment;
  readonly subs: Subscription[];
  /** Jobs of this stage queued or running on the device. */
  active: number;
  lastActive: number;
  /** Leader of a sharded stage only: the shards' reports by request. */
  readonly reports?: StageReports;
  /** Sharded stages: the all-gather of partial results between segments. */
  readonly gather?: ShardGather;
}

interface QueuedJob {
  readonly stage: LoadedStage;
  readonly work: StageWork;
  readonly receivedAt: number;
}

export interface StageRunnerOptions {
  nc: NatsConnection;
  /** Activations and completions: held while NATS is down instead of dropped. */
  outbox: Outbox;
  subjects: RuntimeSubjects;
  executor: StageExecutor;
  log: Logger;
  /** How long a shard waits for the other shards' partial results of one segment (ms). */
  reduceTimeoutMs: number;
}

export class StageRunner {
  processed = 0;
  errors = 0;
  lastError: string | undefined;
  /** The device's one queue for all its stages, one job at a time (nothing kept once run). */
  private readonly jobs = new Mailbox<QueuedJob>((job) => this.#run(job));
  /** Sharded jobs that yielded the device while waiting for their peers, until they finish. */
  private readonly waitingJobs = new Set<Promise<void>>();
  /** Completions reach another dispatcher when their owner is gone. */
  readonly completions: CompletionSender;

  constructor(private readonly o: StageRunnerOptions) {
    this.completions = new CompletionSender({ nc: o.nc, outbox: o.outbox, subjects: o.subjects, log: o.log });
  }

  /** Jobs queued, not started. */
  get queued(): number {
    return this.jobs.pending;
  }

  /** Counts a failure of the device (shown by the worker's status). */
  failed(message: string): void {
    this.errors++;
    this.lastError = message;
  }

  /** Resolves once every job received has finished. */
  async idle(): Promise<void> {
    await this.jobs.idle();
    await Promise.all(this.waitingJobs);
  }

  /** A loaded stage shard starts taking work: its subjects are subscribed (the caller flushes). */
  open(a: StageAssignment): LoadedStage {
    const gather = a.op > 1 ? this.#shardGather(a) : undefined;
    const reports = a.op > 1 && a.shard === 0 ? new StageReports(a.op) : undefined;
    const stage: LoadedStage = { assignment: a, subs: [], active: 0, lastActive: Date.now(), reports, gather };
    const on = (subject: string, what: string, handle: (msg: Msg) => void): void => {
      stage.subs.push(safeSubscribe(this.o.nc, subject, handle, { log: this.o.log, what: `stage ${a.key}${what}` }));
    };
    on(this.o.subjects.stage(a.group, a.stage), '', (msg) => this.#receive(stage, msg));
    if (reports) on(this.o.subjects.stageSync(a.group, a.stage), ' sync', (msg) => this.#receiveSync(stage, msg));
    if (gather) {
      for (let peer = 0; peer < a.op; peer++) {
        if (peer === a.shard) continue;
        on(this.o.subjects.stageReduce(a.group, a.stage, peer), ` reduce ${peer}`, (msg) =>
          this.#receivePartial(gather, msg),
        );
      }
    }
    return stage;
  }

  #receive(stage: LoadedStage, msg: Msg): void {
    const receivedAt = nowSeconds();
    let work: StageWork;
    try {
      work = parseOrThrow(StageWork, decode(msg.data), 'stage work');
    } catch (err) {
      this.failed((err as Error).message);
      this.o.log.warn({ err, subject: msg.subject }, 'dropping invalid stage work');
      this.#answerInvalidWork(msg, err);
      return;
    }
    stage.active++;
    this.jobs.push({ stage, work, receivedAt });
  }

  /**
   * The reply subject of stage work is the owner's completion subject: answer there with a failed
   * completion, so the request fails at once instead of by its timeout.
   */
  #answerInvalidWork(msg: Msg, err: unknown): void {
    if (!msg.reply) return;
    const done: Completion = {
      rid: '',
      group: '',
      ok: false,
      error: `invalid stage work on ${msg.subject}: ${(err as Error).message}`,
      finish: nowSeconds(),
    };
    this.#publish(msg.reply, done);
  }

  /**
   * Publishes through the outbox; throws PayloadTooLargeError (naming `what`) when the message is
   * over the server's max payload, and what nats.js throws for a bad subject.
   */
  #send(subject: string, body: unknown, what: string, reply?: string): void {
    const data = encode(body);
    assertWithinLimit(this.o.nc, data, what);
    this.o.outbox.publish(subject, data, reply ? { reply } : undefined);
  }

  /** Publishes, logging instead of throwing (a subject or payload can still be refused). */
  #publish(subject: string, body: unknown, reply?: string): void {
    try {
      this.o.outbox.publish(subject, encode(body), reply ? { reply } : undefined);
    } catch (err) {
      this.failed((err as Error).message);
      this.o.log.warn({ err, subject }, 'could not publish');
    }
  }

  /**
   * Runs one job on the device. A sharded job that has to wait for its peers' partials yields the
   * device (the mailbox starts the next job) and finishes in the background: shards that see
   * requests in different orders then cannot deadlock.
   */
  #run(job: QueuedJob): Promise<void> {
    const shared = job.stage.gather?.forJob(job.work.rid);
    const finished = this.#runJob(job, shared?.exchange);
    if (!shared) return finished;
    this.waitingJobs.add(finished);
    void finished.then(() => this.waitingJobs.delete(finished));
    return Promise.race([finished, shared.waiting]);
  }

  /** Runs one job to its end and hands its result on; never throws (the queue must go on). */
  async #runJob(job: QueuedJob, exchange: ShardExchange | undefined): Promise<void> {
    const { stage, work } = job;
    let result: StageResult | undefined;
    let error: string | undefined;
    try {
      result = await this.o.executor.run(
        {
          assignment: stage.assignment.key,
          model: work.model,
          input: work.input,
          receivedAt: job.receivedAt,
          upstreamLate: work.late,
        },
        exchange,
      );
      this.processed++;
    } catch (err) {
      error = (err as Error).message;
      this.failed(error);
    }
    stage.active--;
    stage.lastActive = Date.now();
    try {
      if (stage.gather) {
        if (error) stage.gather.abort(work.rid, error);
        else stage.gather.release(work.rid);
      }
      this.#shardDone(stage, work, result, error);
    } catch (err) {
      this.o.log.error({ err, stage: stage.assignment.key }, 'could not hand a result on');
    }
  }

  #shardGather(a: StageAssignment): ShardGather {
    const subject = this.o.subjects.stageReduce(a.group, a.stage, a.shard);
    return new ShardGather({
      shard: a.shard,
      shards: a.op,
      timeoutMs: this.o.reduceTimeoutMs,
      publish: (m) => this.#send(subject, m, `the partial result of segment ${m.segment}`),
    });
  }

  #receivePartial(gather: ShardGather, msg: Msg): void {
    let partial: StagePartial;
    try {
      partial = parseOrThrow(StagePartial, decode(msg.data), 'stage partial');
    } catch (err) {
      this.o.log.warn({ err }, 'dropping invalid stage partial');
      respondMalformed(msg, 'stage partial', err, this.o.log);
      return;
    }
    gather.receive(partial);
  }

  #shardDone(stage: LoadedStage, work: StageWork, result: StageResult | undefined, error: string | undefined): void {
    const a = stage.assignment;
    const now = nowSeconds();
    if (a.op === 1) {
      this.#stageDone(a, work, result?.output, result?.start ?? now, result?.finish ?? now, error);
      return;
    }
    if (a.shard !== 0) {
      // Without a combine the leader uses its own output only (all shards hold the same sum): no need to send ours.
      const output = this.o.executor.combine ? result?.output : undefined;
      const sync: StageSync = {
        rid: work.rid,
        shard: a.shard,
        output,
        start: result?.start ?? now,
        finish: result?.finish ?? now,
        ...(error ? { error } : {}),
      };
      this.#publish(this.o.subjects.stageSync(a.group, a.stage), sync);
      return;
    }
    this.#collect(
      stage,
      work.rid,
      { shard: 0, output: result?.output, start: result?.start ?? now, finish: result?.finish ?? now, error },
      work,
    );
  }

  #receiveSync(stage: LoadedStage, msg: Msg): void {
    let sync: StageSync;
    try {
      sync = parseOrThrow(StageSync, decode(msg.data), 'stage sync');
      const op = stage.assignment.op;
      if (sync.shard === 0 || sync.shard >= op)
        throw new Error(`shard ${sync.shard} is not a reporting shard of a stage with op ${op}`);
    } catch (err) {
      this.o.log.warn({ err }, 'dropping invalid stage sync');
      respondMalformed(msg, 'stage sync', err, this.o.log);
      return;
    }
    this.#collect(stage, sync.rid, sync, undefined);
  }

  /** The leader gathers every shard's part; the stage is done when all `op` have reported. */
  #collect(stage: LoadedStage, rid: string, part: ShardReport, work: StageWork | undefined): void {
    const done = stage.reports?.add(rid, part, work);
    if (!done) return;
    const output = done.error
      ? undefined
      : this.o.executor.combine
        ? this.o.executor.combine(done.outputs)
        : done.outputs[0];
    this.#stageDone(stage.assignment, done.work, output, done.start, done.finish, done.error);
  }

  /** Forwards the activation to the next stage, or reports completion to the dispatcher. */
  #stageDone(
    a: StageAssignment,
    work: StageWork,
    output: unknown,
    start: number,
    finish: number,
    error: string | undefined,
  ): void {
    const firstStart = work.start ?? start;
    const fail = (why: string): void => {
      const done: Completion = {
        rid: work.rid,
        group: work.group,
        ok: false,
        finish,
        start: firstStart,
        error: `${a.key}: ${why}`,
      };
      try {
        this.completions.send(work.done, encode(done), done, work.model, work.client);
      } catch (err) {
        this.failed((err as Error).message);
        this.o.log.warn({ err, subject: work.done }, 'could not publish');
      }
    };
    if (error) {
      fail(error);
      return;
    }
    try {
      if (a.stage === a.pp - 1) {
        const done: Completion = {
          rid: work.rid,
          group: work.group,
          ok: true,
          finish,
          start: firstStart,
          output,
          ...(work.held ? { held: true } : {}),
        };
        const data = encode(done);
        assertWithinLimit(this.o.nc, data, 'the model output');
        this.completions.send(work.done, data, done, work.model, work.client);
        return;
      }
      const { late: _late, ...rest } = work;
      // A sharded stage's finish includes its shards' sync, which is real: nothing to take back.
      const next: StageWork = {
        ...rest,
        stage: a.stage + 1,
        input: output,
        start: firstStart,
        ...(a.op === 1 ? { late: Math.max(0, nowSeconds() - finish) } : {}),
        // Held in our outbox (NATS is down): the next stage will run late for no fault of the devices.
        ...(this.o.outbox.holding ? { held: true } : {}),
      };
      // The reply subject is the dispatcher's completion subject: if the next stage is gone the
      // server answers "no responders" there at once, and the dispatcher fails over.
      this.#send(
        this.o.subjects.stage(a.group, a.stage + 1),
        next,
        `the activation for stage ${a.stage + 1}`,
        work.done,
      );
    } catch (err) {
      fail(
        err instanceof PayloadTooLargeError
          ? `${err.message} (send a smaller batch, or raise the server's max_payload)`
          : (err as Error).message,
      );
    }
  }
}
