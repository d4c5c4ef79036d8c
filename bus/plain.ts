// Plain data: what MessagePack itself can carry. msgpackr also decodes its extension types into
// JavaScript objects (a Date, a Set, a Map, a RegExp, an Error, typed arrays, `undefined`), which
// no other language sends and a receiver that validates fields does not expect deep inside an
// opaque value. A message from outside the cluster is checked with `assertPlain` after decoding.

/** Why `value` is not plain data (a path into it and what was found there), or undefined when it is. */
export function plainDataIssue(value: unknown): string | undefined {
  if (value === undefined) return 'the body is `undefined`';
  // Containers only on the stack (with their path): leaves are checked where they are met.
  const stack: Array<{ value: object; path: string }> = [];
  // A path is built only for a container or an issue: a large array of numbers builds none.
  const pathOf = (parent: string, key: string | number | undefined): string =>
    key === undefined ? parent : typeof key === 'number' ? `${parent}[${key}]` : `${parent}.${key}`;
  const leafIssue = (v: unknown, parent: string, key: string | number | undefined): string | undefined => {
    if (v === null) return undefined;
    switch (typeof v) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'bigint': // a 64-bit MessagePack integer beyond 2^53
        return undefined;
      case 'undefined':
        return `${pathOf(parent, key)} is \`undefined\``;
      case 'object':
        break;
      default:
        return `${pathOf(parent, key)} is a ${typeof v}`;
    }
    const o = v as object;
    if (Array.isArray(o) || isPlainObject(o)) {
      stack.push({ value: o, path: pathOf(parent, key) });
      return undefined;
    }
    // MessagePack bin decodes to a Buffer (a Uint8Array); any other typed array is an extension.
    if (o instanceof Uint8Array && (o.constructor === Uint8Array || Buffer.isBuffer(o))) return undefined;
    return `${pathOf(parent, key)} is a ${o.constructor?.name ?? 'non-plain object'}`;
  };
  const top = leafIssue(value, 'the body', undefined);
  if (top) return top;
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value: container, path } = item;
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const issue = leafIssue(container[i], path, i);
        if (issue) return issue;
      }
    } else {
      for (const key of Object.keys(container)) {
        const issue = leafIssue((container as Record<string, unknown>)[key], path, key);
        if (issue) return issue;
      }
    }
  }
  return undefined;
}

function isPlainObject(o: object): boolean {
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
}

/**
 * Throws when a decoded MessagePack value holds anything but maps, arrays, strings, numbers,
 * booleans, nil and binary: the error names where, and what was found.
 */
export function assertPlain(value: unknown): void {
  const issue = plainDataIssue(value);
  if (issue)
    throw new Error(
      `${issue} (a msgpackr extension type); send plain MessagePack: maps, arrays, strings, numbers, booleans, nil and binary`,
    );
}
