// The benchmark suites, by name. Each lives in bench/<name>.ts and exports `run(args)`;
// `npm run bench -- <suite...>` and `meshserve bench <suite...>` both run them through here.

export interface Suite {
  readonly description: string;
  readonly load: () => Promise<{ run: (args: string[]) => Promise<void> }>;
}

export const SUITES: Readonly<Record<string, Suite>> = {
  bus: { description: 'actor call round trips vs raw NATS request/reply', load: () => import('./bus.js') },
  simulator: {
    description:
      'discrete-event simulator speed per engine and dispatch policy, their ratios in the same run, and memory',
    load: () => import('./simulator.js'),
  },
  dispatcher: {
    description:
      'requests/s the serving dispatcher routes with zero-time devices and the latency it adds, vs raw NATS request/reply',
    load: () => import('./dispatcher.js'),
  },
  placement: {
    description:
      'placement search time and attainment: 32 models on 64 devices, SR vs AlpaServe fast greedy vs beam search',
    load: () => import('./placement.js'),
  },
  onnx: {
    description: 'generated ONNX models: sizes, single-graph latency, 2-stage and 2-shard per-stage latency',
    load: () => import('./onnx.js'),
  },
  faults: {
    description:
      'the fault runs repeated (worker, dispatcher, NATS server and host failures; --rounds, --only=<names>), and the slow-network replay with and without the measured hop',
    load: () => import('./faults.js'),
  },
  'serve-onnx': {
    description:
      'a generated model served through NATS + dispatcher + ONNX worker processes (pp1, pp2, op2) vs direct onnxruntime, same run',
    load: () => import('./serve-onnx.js'),
  },
  'serve-import': {
    description:
      'a real imported ONNX model (PaddleOCR, from an npm package) served through NATS + dispatcher + ONNX worker processes at pp1 and pp2 vs direct onnxruntime, same run',
    load: () => import('./serve-import.js'),
  },
};

export class UnknownSuiteError extends Error {}

/**
 * Runs the named suites in order (all when none are named). `args` holds the suite names first;
 * everything from the first option on is passed to every suite (so option values such as
 * `--runs 30` are not taken for suite names). Unknown names fail before anything runs.
 */
export async function runSuites(args: readonly string[]): Promise<void> {
  const firstOption = args.findIndex((n) => n.startsWith('-'));
  const chosen = firstOption < 0 ? [...args] : args.slice(0, firstOption);
  const extra = firstOption < 0 ? [] : args.slice(firstOption);
  const names = chosen.length ? chosen : Object.keys(SUITES);
  const unknown = names.filter((n) => !SUITES[n]);
  if (unknown.length)
    throw new UnknownSuiteError(
      `unknown bench suite "${unknown.join('", "')}"; known: ${Object.keys(SUITES).join(', ')}`,
    );
  for (const name of names) {
    const suite = SUITES[name];
    console.log(`\n== bench ${name}: ${suite.description}`);
    await (await suite.load()).run(extra);
  }
}

/** The help line listing the suites. */
export function suiteHelp(): string {
  return Object.entries(SUITES)
    .map(([name, s]) => `  ${name.padEnd(11)} ${s.description}`)
    .join('\n');
}
