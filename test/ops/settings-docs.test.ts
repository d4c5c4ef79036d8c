// The settings table of docs/operations.md names every environment variable meshserve reads, with
// the default config/environment.ts gives it: a variable added without its line fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ENVIRONMENT } from '../../config/environment.js';

const docs = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');

test('docs/operations.md documents every environment variable', () => {
  const rows = docs.split('\n').filter((l) => l.startsWith('| `'));
  const missing = ENVIRONMENT.filter((v) => !rows.some((row) => row.startsWith(`| \`${v.name}\` |`))).map(
    (v) => v.name,
  );
  assert.deepEqual(missing, []);
});
