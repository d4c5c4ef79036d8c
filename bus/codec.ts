// Payload encoding for every bus message.
//
// MessagePack by default (msgpackr with records off, i.e. plain MessagePack any language reads);
// JSON when the message carries the header `content-type: application/json`, so a client with
// only a JSON library (nats CLI, curl-ish tools, Python) can call actors. Replies use the
// encoding of the request. JSON has no bytes: byte arrays are written as base64 strings (the
// receiver of a JSON message decides which strings are base64, as with tensors' `data`).
import { Match, type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import { Packr } from 'msgpackr';

export type Encoding = 'msgpack' | 'json';

export const CONTENT_TYPE_HEADER = 'content-type';
export const JSON_CONTENT_TYPE = 'application/json';

const packr = new Packr({ useRecords: false });
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** The encoding a message declares: JSON only when its content-type says so. */
export function encodingOf(headers: MsgHdrs | undefined): Encoding {
  if (!headers) return 'msgpack';
  // Header names are case-insensitive in practice (other clients send `Content-Type`).
  const contentType = headers.get(CONTENT_TYPE_HEADER, Match.IgnoreCase);
  return contentType.startsWith(JSON_CONTENT_TYPE) ? 'json' : 'msgpack';
}

/** JSON.stringify replacer: byte arrays (Buffer included, before its toJSON) as base64. */
function bytesAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : value;
}

export function encode(value: unknown, encoding: Encoding = 'msgpack'): Uint8Array {
  return encoding === 'json' ? textEncoder.encode(JSON.stringify(value, bytesAsBase64)) : packr.pack(value);
}

/** Decodes a payload; throws a plain Error with the parser's reason on malformed input. */
export function decode(data: Uint8Array, encoding: Encoding = 'msgpack'): unknown {
  if (data.length === 0) return undefined;
  return encoding === 'json' ? JSON.parse(textDecoder.decode(data)) : packr.unpack(data);
}

let jsonHeaders: MsgHdrs | undefined;
/** Headers marking a message as JSON (shared instance: publish only reads it). */
export function jsonContentHeaders(): MsgHdrs {
  if (!jsonHeaders) {
    jsonHeaders = natsHeaders();
    jsonHeaders.set(CONTENT_TYPE_HEADER, JSON_CONTENT_TYPE);
  }
  return jsonHeaders;
}

/** Headers to send with a message of the given encoding (none for MessagePack). */
export function headersFor(encoding: Encoding): MsgHdrs | undefined {
  return encoding === 'json' ? jsonContentHeaders() : undefined;
}
