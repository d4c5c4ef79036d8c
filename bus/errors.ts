// Typed errors of the bus. Every error a caller can see is one of these classes, so callers
// can branch with `instanceof` and read structured fields instead of parsing messages.

/** Machine-readable codes the runtime itself puts on error replies. */
export const ErrorCodes = {
  /** The handler threw; the remote error's own `code` is used when it has a string one. */
  handlerError: 'HANDLER_ERROR',
  unknownMethod: 'UNKNOWN_METHOD',
  /** Payload not decodable or not a call envelope. */
  badRequest: 'BAD_REQUEST',
  /** Arguments rejected by the actor's argument schema. */
  invalidArgs: 'INVALID_ARGS',
} as const;

export class BusError extends Error {
  override name = 'BusError';
}

/** Input (a message, a name, an option) failed validation. */
export class ValidationError extends BusError {
  override name = 'ValidationError';
}

/** The actor answered with an error; carries the remote error's name, message and code. */
export class RemoteError extends BusError {
  override name = 'RemoteError';
  constructor(
    /** Actor name the call went to. */
    readonly actor: string,
    readonly method: string,
    /** `name` of the error thrown remotely (e.g. `TypeError`). */
    readonly remoteName: string,
    readonly remoteMessage: string,
    /** The remote error's code, or one of {@link ErrorCodes}. */
    readonly code: string,
  ) {
    super(`${actor}.${method} failed: ${remoteName}: ${remoteMessage}`);
  }
}

export class CallTimeoutError extends BusError {
  override name = 'CallTimeoutError';
  constructor(
    readonly actor: string,
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${actor}.${method} did not answer within ${timeoutMs} ms`);
  }
}

/** Nobody subscribes to the actor's subject (not spawned, stopped, or not yet reconnected). */
export class NoRespondersError extends BusError {
  override name = 'NoRespondersError';
  constructor(
    readonly actor: string,
    readonly method: string,
  ) {
    super(`no actor "${actor}" is serving (call to ${actor}.${method} had no responders)`);
  }
}

/** The actor is not in a state that allows the operation (e.g. spawning a name twice). */
export class ActorStateError extends BusError {
  override name = 'ActorStateError';
}

/** Fields of any thrown value, for error replies and logs. */
export function describeError(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(err) };
}
