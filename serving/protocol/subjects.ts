// Subject names of the serving runtime. Only `<prefix>.infer.>` is public; everything else is
// between the runtime's own actors (docs/protocol.md lists them all).
import { assertToken, Subjects } from '../../bus/index.js';

/**
 * Subject names of the runtime. Only `<prefix>.infer.>` is public; everything else is between
 * the runtime's own actors.
 */
export class RuntimeSubjects {
  readonly prefix: string;
  constructor(readonly bus: Subjects = new Subjects()) {
    this.prefix = bus.prefix;
  }

  /**
   * `ms.infer.<model>`: public requests, served by the dispatchers (one queue group). Model names
   * may contain dots (`bert-1.3b`): the model is everything after `ms.infer.`.
   */
  infer(model: string): string {
    for (const part of model.split('.')) assertToken(part, 'model name part');
    return `${this.prefix}.infer.${model}`;
  }

  /** Wildcard the dispatchers subscribe to. */
  get inferWildcard(): string {
    return `${this.prefix}.infer.>`;
  }

  /** Prefix length of `ms.infer.`, to cut the model name out of a subject. */
  get inferPrefixLength(): number {
    return this.prefix.length + '.infer.'.length;
  }

  /** `ms.group.<g>.stage.<k>`: work for stage k of mesh group g (every shard of the stage subscribes). */
  stage(group: string, stage: number): string {
    return `${this.prefix}.group.${assertToken(group, 'group id')}.stage.${stage}`;
  }

  /** `ms.group.<g>.stage.<k>.sync`: intra-operator shards report to the stage's leader (shard 0). */
  stageSync(group: string, stage: number): string {
    return `${this.stage(group, stage)}.sync`;
  }

  /**
   * `ms.group.<g>.stage.<k>.reduce.<s>`: shard s of a sharded stage publishes its partial result
   * of each segment here, and the stage's other shards subscribe (the all-reduce between
   * segments). One subject per shard, so no shard is sent its own partials back.
   */
  stageReduce(group: string, stage: number, shard: number): string {
    return `${this.stage(group, stage)}.reduce.${shard}`;
  }

  /** `ms.dispatch.<dispatcher>.<rid>`: where the last stage reports completion of request rid. */
  completion(dispatcher: string, rid: string): string {
    return `${this.completionBase(dispatcher)}${rid}`;
  }

  completionBase(dispatcher: string): string {
    return `${this.prefix}.dispatch.${assertToken(dispatcher, 'dispatcher id')}.`;
  }

  /**
   * `ms.dispatch.orphan.<dispatcher>`: a completion whose owner was gone, for any dispatcher (queue
   * group) to answer. A dispatcher id is a ULID, so `orphan` is never one.
   */
  orphan(owner: string): string {
    return `${this.prefix}.dispatch.orphan.${assertToken(owner, 'dispatcher id')}`;
  }

  get orphanWildcard(): string {
    return `${this.prefix}.dispatch.orphan.*`;
  }

  /** The owner in a completion subject `ms.dispatch.<owner>.<rid>`, or undefined for another subject. */
  ownerOf(completionSubject: string): string | undefined {
    const base = `${this.prefix}.dispatch.`;
    if (!completionSubject.startsWith(base)) return undefined;
    const rest = completionSubject.slice(base.length).split('.');
    return rest.length === 2 && rest[0] !== 'orphan' ? rest[0] : undefined;
  }

  /** `ms.dispatch.peers`: dispatchers tell each other what they booked on the groups they share. */
  get dispatchPeers(): string {
    return `${this.prefix}.dispatch.peers`;
  }

  /** `ms.placement`: the planner publishes every new placement here. */
  get placement(): string {
    return `${this.prefix}.placement`;
  }

  /** `ms.events.<kind>`. */
  event(kind: string): string {
    return this.bus.event(kind);
  }
}
