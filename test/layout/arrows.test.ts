// The architecture's arrows, checked on the sources. Each top-level folder may import only the
// folders listed for it (docs/architecture.md draws the same picture), and no chain of imports,
// type-only ones included, leads from a module back to itself.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/layout → repository root
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** What each folder may import, besides itself and packages. */
const ALLOWED: Record<string, readonly string[]> = {
  planner: [],
  bus: [],
  modelgen: ['planner'],
  modelimport: ['modelgen', 'planner'],
  config: ['planner', 'bus'],
  serving: ['bus', 'planner', 'modelgen', 'modelimport', 'config'],
  ops: ['serving', 'bus', 'planner', 'config'],
  dev: ['serving', 'ops', 'bus', 'planner', 'modelgen', 'modelimport', 'config'],
  bench: ['dev', 'serving', 'ops', 'bus', 'planner', 'modelgen', 'modelimport', 'config'],
  scripts: ['bench', 'dev', 'serving', 'ops', 'bus', 'planner', 'modelgen', 'modelimport', 'config'],
};

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Module specifiers a file imports or re-exports (static, dynamic and type-only). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]);
}

/** The repository-relative source file a relative specifier names. */
function target(file: string, spec: string): string {
  return relative(root, resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
}

const topFolder = (path: string): string => path.split('/')[0];

test('every folder imports only the folders its arrows allow', () => {
  const found: string[] = [];
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    assert.ok(sources(folder).length > 0, `${folder}/ has sources`);
    for (const file of sources(folder)) {
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const to = topFolder(target(file, spec));
        if (to !== folder && !allowed.includes(to)) found.push(`${relative(root, file)} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(found, []);
});

test('planner/ is pure: nothing of NATS, Redis, files, network or processes', () => {
  const io =
    /^@nats-io\/|^ioredis$|^prom-client$|^node:(fs|fs\/promises|net|http|https|dgram|child_process|worker_threads)$/;
  // The optional worker threads of the placement search are the one exception: they change no result.
  const threads = new Set(['planner/placement/worker-pool.ts', 'planner/placement/layout-worker.ts']);
  const found = sources('planner').flatMap((file) =>
    imports(file)
      .filter((spec) => io.test(spec) && !(spec === 'node:worker_threads' && threads.has(relative(root, file))))
      .map((spec) => `${relative(root, file)} imports ${spec}`),
  );
  assert.deepEqual(found, []);
});

test('no import cycle, type-only imports included', () => {
  const graph = new Map<string, string[]>();
  for (const folder of Object.keys(ALLOWED)) {
    for (const file of sources(folder)) {
      const from = relative(root, file);
      graph.set(
        from,
        imports(file)
          .filter((s) => s.startsWith('.'))
          .map((s) => target(file, s)),
      );
    }
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' → '));
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  assert.deepEqual(cycles, []);
});
