// Reading a public request off `ms.infer.<model>`: its encoding (bodyEncoding), its body
// (MessagePack, or JSON), validated against InferRequest. A request that fails any step is
// answered with an error naming what was wrong.
import { Match, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import { assertPlain, CONTENT_TYPE_HEADER, decode, type Encoding, encodingOf, formatIssues } from '../../bus/index.js';
import { naturalOrder } from '../natural-order.js';
import { InferRequest } from '../protocol/messages.js';

export type Ingress =
  | {
      readonly ok: true;
      readonly reply: string;
      readonly encoding: Encoding;
      readonly model: string;
      readonly request: InferRequest;
    }
  /** Not a request: answered with `reason` (the client's id echoed when it could be read). */
  | {
      readonly ok: false;
      readonly reply: string;
      readonly encoding: Encoding;
      readonly model: string;
      readonly id: string;
      readonly reason: string;
    };

/**
 * The request in `msg`; `prefixLength` cuts the model name (which may hold dots) out of the
 * subject. Undefined for a message without a reply subject: there is nobody to answer.
 */
export function readRequest(msg: Msg, prefixLength: number): Ingress | undefined {
  const model = msg.subject.slice(prefixLength);
  const reply = msg.reply;
  if (!reply) return undefined;
  let encoding: Encoding;
  try {
    encoding = bodyEncoding(msg.headers, msg.data);
  } catch (err) {
    const reason = `unparsable message headers: ${(err as Error).message}`;
    return { ok: false, reply, encoding: 'msgpack', model, id: '', reason };
  }
  let body: unknown;
  try {
    body = decode(msg.data, encoding);
    // Plain MessagePack only: msgpackr's extension types (Date, Set, typed arrays, undefined…) are refused.
    if (encoding === 'msgpack' && msg.data.length > 0) assertPlain(body);
    body ??= {};
  } catch (err) {
    return {
      ok: false,
      reply,
      encoding,
      model,
      id: '',
      reason: `malformed ${encoding} body: ${(err as Error).message}`,
    };
  }
  const parsed = InferRequest.safeParse(body);
  if (!parsed.success) {
    const rawId = typeof body === 'object' && body !== null ? (body as { id?: unknown }).id : undefined;
    const id = typeof rawId === 'string' ? rawId : '';
    return { ok: false, reply, encoding, model, id, reason: `invalid request: ${formatIssues(parsed.error)}` };
  }
  return { ok: true, reply, encoding, model, request: parsed.data };
}

/**
 * The encoding of a public request's body, which its reply uses too: the content-type header's
 * when there is one; without it, JSON when the body's first byte after JSON whitespace is `{` or
 * `[` (a valid MessagePack request is a map, which never starts with those bytes), else MessagePack.
 */
export function bodyEncoding(headers: MsgHdrs | undefined, data: Uint8Array): Encoding {
  if (headers?.get(CONTENT_TYPE_HEADER, Match.IgnoreCase)) return encodingOf(headers);
  for (const byte of data) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b || byte === 0x5b ? 'json' : 'msgpack'; // `{` or `[`
  }
  return 'msgpack';
}

/** Why a request for `model` is refused: the model is not served (and what is). */
export function notServed(model: string, served: string[]): string {
  const known = served.sort(naturalOrder);
  const list = known.length
    ? ` (served: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`
    : ' (no placement yet)';
  return `model "${model}" is not served${list}`;
}
