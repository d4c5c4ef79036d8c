// Small builders shared by the planner tests.
import { type ConfigProfile, configKey, type ModelProfile, type Workload } from '../../planner/types.js';

/** A model with explicit stage latencies per config, e.g. { 'pp1-op1': [0.1], 'pp2-op1': [0.06, 0.05] }. */
export function toyProfile(name: string, stages: Record<string, number[]>, weightPerStage = 1e9): ModelProfile {
  const configs: Record<string, ConfigProfile> = {};
  for (const [key, lat] of Object.entries(stages)) {
    const m = /^pp(\d+)-op(\d+)$/.exec(key);
    if (!m) throw new Error(`bad config key ${key}`);
    const c = { pp: Number(m[1]), op: Number(m[2]) };
    configs[configKey(c)] = { ...c, stageLatency: lat, stageWeightBytes: lat.map(() => weightPerStage) };
  }
  const single =
    configs['pp1-op1']?.stageLatency[0] ?? Object.values(configs)[0].stageLatency.reduce((a, b) => a + b, 0);
  return {
    name,
    singleDeviceLatency: single,
    weightBytes: weightPerStage,
    configs,
    source: 'synthesised',
    notes: 'test fixture',
  };
}

/** A workload from explicit rows [arrival, model index, slo]. */
export function rows(modelNames: string[], list: [number, number, number][], duration?: number): Workload {
  return {
    modelNames,
    arrival: Float64Array.from(list, (r) => r[0]),
    model: Int32Array.from(list, (r) => r[1]),
    slo: Float64Array.from(list, (r) => r[2]),
    duration: duration ?? (list.length ? list[list.length - 1][0] : 0),
  };
}
