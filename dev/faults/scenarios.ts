// Workloads of the fault runs shared by the tests and the benchmarks.

/** GPU workers (hosts) of the delay scenario. */
export const DELAY_WORKERS = 3;

/**
 * Three single-device groups hosting the same three models, on hosts behind a slow link; bursty
 * traffic with a tight SLO (about 82% attainment), so that an unmodelled hop costs attainment.
 * `overhead`: the per-request overhead (s) the placement and the simulator use.
 */
export function delayScenario(overhead: number, duration = 25): Record<string, unknown> {
  const models = ['bert-1.3b-0', 'bert-1.3b-1', 'bert-1.3b-2'];
  return {
    cluster: { devices: DELAY_WORKERS, memoryPerDeviceGiB: 13 },
    models: [{ zoo: 'bert-1.3b', count: 3 }],
    groups: [{ config: { pp: 1, op: 1 }, count: DELAY_WORKERS, models }],
    workload: { process: 'gamma', totalRate: 12, cv: 2, duration, seed: 11, split: 'uniform' },
    slo: { scale: 2 },
    sim: { policy: 'earliest-finish', overhead },
  };
}
