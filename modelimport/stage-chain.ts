// A chain of stage models run in one process, one after another, each on its own session: the
// reference the served pipeline must match, and the way the importer verifies and times a plan.
// Tensors are handed on by name; a tensor a stage does not compute but a later stage reads passes
// through unchanged.
import type { TensorSpec } from '../modelgen/tensor-spec.js';
import { createSession, type ort, runSession, type SessionSettings, type Tensors } from './ort-session.js';

export interface ChainStage {
  bytes: Uint8Array;
  sends: readonly TensorSpec[];
}

export interface ChainRun {
  outputs: Tensors;
  /** Milliseconds each stage's session took. */
  stageMs: number[];
}

export class StageChain {
  private constructor(
    private readonly sessions: ort.InferenceSession[],
    private readonly sends: ReadonlyArray<readonly TensorSpec[]>,
  ) {}

  static async load(stages: readonly ChainStage[], settings: SessionSettings = {}): Promise<StageChain> {
    const sessions: ort.InferenceSession[] = [];
    try {
      for (const s of stages) sessions.push(await createSession(s.bytes, settings));
    } catch (err) {
      await Promise.all(sessions.map((s) => s.release()));
      throw err;
    }
    return new StageChain(
      sessions,
      stages.map((s) => s.sends),
    );
  }

  async run(inputs: Tensors): Promise<ChainRun> {
    let tensors = inputs;
    const stageMs: number[] = [];
    for (const [k, session] of this.sessions.entries()) {
      const start = performance.now();
      const results = await runSession(session, tensors);
      stageMs.push(performance.now() - start);
      const next: Tensors = {};
      for (const { name } of this.sends[k]) {
        const t = results[name] ?? tensors[name];
        if (!t) throw new Error(`stage ${k} hands on no tensor "${name}"`);
        next[name] = t;
      }
      tensors = next;
    }
    return { outputs: tensors, stageMs };
  }

  async close(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}
