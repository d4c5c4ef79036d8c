// NATS subject names used by the bus. All start with a configurable prefix (default `ms`).
//
//   <prefix>.actor.<name>.<method>   calls and tells to an actor (one subscription: <prefix>.actor.<name>.>)
//   <prefix>.actor.<name>._ping      liveness ping, answered by the runtime itself (also while draining)
//   <prefix>.events.<kind>           lifecycle events, e.g. ms.events.actor.dead
import { ValidationError } from './errors.js';

export const DEFAULT_PREFIX = 'ms';

/** Method token of the liveness ping; names starting with `_` are never callable, so it cannot clash. */
export const PING_METHOD = '_ping';

// A subject token: no dots, wildcards or whitespace. Actor names are also used as $SRV
// service names and Redis key parts, so keep them to this conservative set.
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Throws ValidationError unless `value` can be used as one subject token. */
export function assertToken(value: string, what: string): string {
  if (!TOKEN.test(value)) {
    throw new ValidationError(`${what} "${value}" is not a subject-safe token (letters, digits, "-" and "_" only)`);
  }
  return value;
}

/** A prefix may have several tokens (e.g. `ms.test1`); each must be subject-safe. */
function assertPrefix(prefix: string): string {
  for (const token of prefix.split('.')) assertToken(token, 'subject prefix part');
  return prefix;
}

export class Subjects {
  readonly prefix: string;

  constructor(prefix: string = DEFAULT_PREFIX) {
    this.prefix = assertPrefix(prefix);
  }

  /** `<prefix>.actor.<name>.` — append a method name to get a call subject. */
  actorBase(name: string): string {
    return `${this.prefix}.actor.${assertToken(name, 'actor name')}.`;
  }

  actorMethod(name: string, method: string): string {
    return this.actorBase(name) + assertToken(method, 'method name');
  }

  /** Where the runtime answers liveness pings for actor `name` (see PING_METHOD). */
  actorPing(name: string): string {
    return this.actorBase(name) + PING_METHOD;
  }

  /** The wildcard subscription for an actor's calls. */
  actorWildcard(name: string): string {
    return `${this.actorBase(name)}>`;
  }

  /** `<prefix>.events.<kind>`; kind may have several tokens (`actor.dead`). */
  event(kind: string): string {
    for (const token of kind.split('.')) assertToken(token, 'event kind part');
    return `${this.prefix}.events.${kind}`;
  }

  /** `<prefix>.<...tokens>` for parts built on the bus (e.g. group stage subjects). */
  custom(...tokens: string[]): string {
    for (const token of tokens) assertToken(token, 'subject token');
    return [this.prefix, ...tokens].join('.');
  }
}

/** The method name of a call subject: its last token. */
export function methodOf(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}
