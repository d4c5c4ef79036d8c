// While no dispatcher process runs (the only one crashed and its supervisor is restarting it),
// the supervising process holds the public subject itself: requests wait instead of getting
// "no responders", and go to the new dispatcher once it has subscribed, with the time they waited
// (their deadline runs from when they came). A request held too long, or with nowhere to go
// (the supervisor gave up), gets an error reply.
import type { Msg } from '@nats-io/transport-node';
import { type ActorSystem, encode, headersFor, type Logger, QueueStandby, type Supervisor } from '../bus/index.js';
import { nowSeconds } from '../serving/clock.js';
import { readRequest } from '../serving/dispatcher/ingress.js';
import { errorReply } from '../serving/dispatcher/replies.js';
import { RuntimeSubjects } from '../serving/protocol/subjects.js';

export interface DispatcherStandbyOptions {
  /** Names of the dispatcher processes under `supervisor`. */
  dispatchers: readonly string[];
  /** Longest a request is held (ms). Default 10 000. */
  maxHoldMs?: number;
  log: Logger;
}

/** Holds `ms.infer.>` while none of the supervised dispatchers runs; returns a function that stops it. */
export function standInForDispatchers(
  system: ActorSystem,
  supervisor: Supervisor,
  o: DispatcherStandbyOptions,
): () => void {
  const subjects = new RuntimeSubjects(system.subjects);
  const standby = new QueueStandby(system.nats, {
    subject: subjects.inferWildcard,
    queue: 'dispatchers',
    maxHoldMs: o.maxHoldMs ?? 10_000,
    log: o.log,
    expire: (msg, why) => refuse(system, subjects, msg, why),
  });
  const isDispatcher = (name: string): boolean => o.dispatchers.includes(name);
  const anyRunning = (but?: string): boolean =>
    o.dispatchers.some((n) => n !== but && supervisor.get(n)?.state === 'running');
  const onExit = (name: string, code: number | null): void => {
    // A crash the supervisor will answer with a restart (a clean exit or a stop is not restarted);
    // the child still reads as running while its exit is announced.
    const child = supervisor.get(name);
    if (!isDispatcher(name) || code === 0 || child?.state !== 'running' || anyRunning(name)) return;
    void standby.hold();
  };
  const onReady = (name: string): void => {
    if (isDispatcher(name)) void standby.release();
  };
  const onGiveUp = (name: string): void => {
    if (isDispatcher(name) && !anyRunning(name)) standby.close(`dispatcher ${name} crashed and was not restarted`);
  };
  supervisor.on('exit', onExit);
  supervisor.on('ready', onReady);
  supervisor.on('giveup', onGiveUp);
  return () => {
    supervisor.off('exit', onExit);
    supervisor.off('ready', onReady);
    supervisor.off('giveup', onGiveUp);
    standby.close('the cluster is stopping');
  };
}

/** The one reply a held request gets when it cannot be handed to a dispatcher. */
function refuse(system: ActorSystem, subjects: RuntimeSubjects, msg: Msg, why: string): void {
  const taken = readRequest(msg, subjects.inferPrefixLength);
  if (!taken || system.nats.isClosed()) return;
  const id = taken.ok ? (taken.request.id ?? '') : taken.id;
  const body = errorReply({ id, model: taken.model, arrival: nowSeconds() }, `no dispatcher to serve it: ${why}`);
  system.nats.publish(taken.reply, encode(body, taken.encoding), { headers: headersFor(taken.encoding) });
}
