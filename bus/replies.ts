// Error replies in the bus envelope `{ ok: false, error: { name, message, code } }`, for actors
// and for any other subscriber that answers a malformed message carrying a reply subject.
import type { Msg } from '@nats-io/transport-node';
import { type Encoding, encode, encodingOf, headersFor } from './codec.js';
import { ErrorCodes } from './errors.js';
import type { Logger } from './log.js';
import type { RemoteErrorBody } from './schemas.js';

/** The message's declared encoding; msgpack when its header block cannot even be parsed. */
export function safeEncodingOf(msg: Msg): Encoding {
  try {
    return encodingOf(msg.headers);
  } catch {
    return 'msgpack';
  }
}

/** Answers `msg` with an error envelope when it has a reply subject; never throws. Returns whether it answered. */
export function respondError(
  msg: Msg,
  error: RemoteErrorBody,
  log: Logger,
  encoding: Encoding = safeEncodingOf(msg),
): boolean {
  if (!msg.reply) return false;
  try {
    msg.respond(encode({ ok: false, error }, encoding), { headers: headersFor(encoding) });
    return true;
  } catch (err) {
    log.error({ err, subject: msg.subject }, 'could not send error reply');
    return false;
  }
}

/** A BAD_REQUEST error reply for a message that failed validation (`what` names the message). */
export function respondMalformed(msg: Msg, what: string, err: unknown, log: Logger): boolean {
  return respondError(
    msg,
    {
      name: 'BadRequestError',
      message: `malformed ${what}: ${(err as Error)?.message ?? String(err)}`,
      code: ErrorCodes.badRequest,
    },
    log,
  );
}
