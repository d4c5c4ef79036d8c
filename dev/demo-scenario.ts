// The workload `meshserve start` replays on its local cluster: the example scenario's models and
// groups (8 GPUs: one 4-stage pipeline and two 2-stage pipelines), bursty Gamma arrivals (CV 4)
// with power-law rates, SLO scale 5. With another number of workers, the models are placed by
// the planner's default strategy instead of these groups.
export function demoScenario(seconds: number, rate: number): Record<string, unknown> {
  return {
    cluster: { devices: 8, memoryPerDeviceGiB: 13 },
    models: [
      { zoo: 'bert-1.3b', count: 4 },
      { zoo: 'bert-2.6b', count: 2 },
    ],
    groups: [
      {
        config: { pp: 4, op: 1 },
        models: ['bert-1.3b-0', 'bert-1.3b-1', 'bert-1.3b-2', 'bert-1.3b-3', 'bert-2.6b-0', 'bert-2.6b-1'],
      },
      { config: { pp: 2, op: 1 }, count: 2, models: ['bert-1.3b-0', 'bert-1.3b-1', 'bert-2.6b-0', 'bert-2.6b-1'] },
    ],
    workload: { process: 'gamma', totalRate: rate, cv: 4, duration: seconds, seed: 1, split: 'power-law' },
    slo: { scale: 5 },
    sim: { policy: 'earliest-finish' },
  };
}
