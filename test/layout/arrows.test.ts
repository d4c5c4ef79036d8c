// The architecture's arrows, checked on the sources: planner/ is pure (nothing of NATS, Redis,
// the file system or the network, and nothing of bus/ or actors/), bus/ knows nothing of
// AlpaServe (no planner/, no actors/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/layout → repository root
const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

/** Module specifiers a file imports (static and dynamic). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]);
}

function violations(dir: string, forbidden: RegExp): string[] {
  return sources(dir).flatMap((file) => imports(file).filter((spec) => forbidden.test(spec)).map((spec) => `${relative(root, file)} imports ${spec}`));
}

test('planner/ imports nothing of NATS, Redis, files, network, bus/ or actors/', () => {
  assert.ok(sources('planner').length > 10);
  assert.deepEqual(violations('planner', /^@nats-io\/|^ioredis$|^node:(fs|net|http|https|dgram|child_process)$|(^|\/)(bus|actors|scripts)\//), []);
});

test('bus/ imports nothing of planner/, actors/ or scripts/', () => {
  assert.ok(sources('bus').length > 10);
  assert.deepEqual(violations('bus', /(^|\/)(planner|actors|scripts)\//), []);
});

test('actors/ never imports scripts/', () => {
  assert.deepEqual(violations('actors', /(^|\/)scripts\//), []);
});
