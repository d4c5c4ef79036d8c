// Following placements as the planner publishes them on `ms.placement` (workers, dispatchers).
// Only a placement that passes its schema and its consistency check reaches the follower; a
// malformed one is logged and, when it carries a reply subject, answered with an error — as is
// one the follower fails to apply.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decode, type Logger, parseOrThrow, respondMalformed, safeSubscribe } from '../../bus/index.js';
import { checkPlacement, RuntimePlacement } from './placement.js';
import type { RuntimeSubjects } from './subjects.js';

export function followPlacements(
  nc: NatsConnection,
  subjects: RuntimeSubjects,
  log: Logger,
  use: (placement: RuntimePlacement) => void | Promise<void>,
): Subscription {
  return safeSubscribe(
    nc,
    subjects.placement,
    async (msg) => {
      let placement: RuntimePlacement;
      try {
        placement = parseOrThrow(RuntimePlacement, decode(msg.data), 'placement');
        checkPlacement(placement);
      } catch (err) {
        log.warn({ err }, 'ignoring invalid placement');
        respondMalformed(msg, 'placement', err, log);
        return;
      }
      try {
        await use(placement);
      } catch (err) {
        log.warn({ err, version: placement.version }, 'could not apply a placement');
        respondMalformed(msg, 'placement', err, log);
      }
    },
    { log, what: 'placements' },
  );
}
