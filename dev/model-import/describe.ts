// What `meshserve serve` and `npm start -- --models` print once a repository is served.
import { Subjects } from '../../bus/index.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import type { ServeRepositoryResult } from './serve-repository.js';

export function describeServed(r: ServeRepositoryResult, prefix = 'ms'): string {
  const subjects = new RuntimeSubjects(new Subjects(prefix));
  const lines: string[] = [];
  for (const { name, result } of r.models) {
    const how = result.unchanged
      ? 'unchanged'
      : `imported (${result.uploaded} stage file(s) uploaded, ${result.present} already stored)`;
    const groups = r.placement.groups
      .filter((g) => g.models.includes(name))
      .map((g) => `${g.id} (pp${g.config.pp} on ${g.devices.flat().join(',')})`);
    lines.push(
      `${name}: ${how}; configs ${Object.keys(result.profile.configs).join(', ')}; ` +
        (groups.length
          ? `served at ${subjects.infer(name)} by ${groups.join(', ')}`
          : 'not placed (no group hosts it)'),
    );
  }
  lines.push(`placement v${r.placement.version} (${r.placement.strategy})`);
  const first = r.models[0];
  if (first) {
    const shapes = Object.entries(first.result.profile.imported?.inputShapes ?? {});
    const what =
      shapes.length === 1
        ? `a float32 tensor [${shapes[0][1].join(',')}]`
        : `float32 tensors ${shapes.map(([n, s]) => `${n} [${s.join(',')}]`).join(', ')}`;
    lines.push(`call it: meshserve infer ${first.name}   (${what} of 0.5s; --tensor or a JSON input for your own)`);
  }
  return lines.join('\n');
}
