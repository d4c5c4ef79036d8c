// Settings of the planner actor (`meshserve planner`, and the planner `meshserve start` forks):
// every default in one schema. `configure()` at run time is checked against the same schema.
import { z } from 'zod';
import { REFERENCE_OVERHEAD, REFERENCE_STAGE_PENALTY } from '../planner/latency-model.js';
import { adaptivePolicySchema } from '../planner/placement/index.js';

/** The placement algorithm a planner uses when none is configured. */
export const DEFAULT_STRATEGY = 'alpaserve';

const GroupConfig = z.object({
  config: z.object({ pp: z.number().int().positive(), op: z.number().int().positive() }),
  models: z.array(z.string()),
  count: z.number().int().positive().optional(),
});

export const PlannerConfig = z.object({
  /** Placement algorithm by name (planner/placement/algorithms.ts; oracles excepted). */
  strategy: z.string().default(DEFAULT_STRATEGY),
  /** Models to place; default: every model with a profile in Redis. */
  models: z.array(z.string().min(1)).optional(),
  /**
   * Expected traffic by model (what `meshserve serve` reads from meshserve.json): the rate (req/s)
   * placements assume until the dispatchers observe one, and the SLO (s) they are scored on
   * instead of a scale of the single-device latency.
   */
  expected: z
    .record(z.string(), z.object({ rate: z.number().nonnegative().optional(), slo: z.number().positive().optional() }))
    .optional(),
  /** Operator groups for the 'static' strategy. */
  groups: z.array(GroupConfig).optional(),
  /** Per-device weight budget (GiB); default: the smallest registered device. */
  memoryPerDeviceGiB: z.number().positive().optional(),
  stagePenalty: z.number().nonnegative().default(REFERENCE_STAGE_PENALTY),
  overhead: z.number().nonnegative().default(REFERENCE_OVERHEAD),
  /**
   * The adaptive strategy's policy (`loadBandwidth`, `minGain`, `clearGain`, `homeHorizon`,
   * `departureLoads`; the library's defaults where unset). It decides at each rate check, on
   * traffic synthesised from the observed rates. `configure` replaces it as a whole.
   */
  adaptive: adaptivePolicySchema.optional(),
  /** Check observed rates this often (s) and re-place when they moved by half or more; 0 = never. */
  rateCheckSec: z.number().nonnegative().default(60),
  /** Re-place when devices join or leave (after this settling delay, ms); 0 = never. */
  deviceSettleMs: z.number().nonnegative().default(1_000),
  /** Also place when devices join before any placement exists (a cluster coming up by itself). */
  autoPlace: z.boolean().default(false),
  /** How long a device may take to load its stages (ms). */
  assignTimeoutMs: z.number().positive().default(30_000),
  /** How often the planner checks that Redis still holds its state, and writes it back if not (ms). */
  stateCheckMs: z.number().positive().default(1_000),
});
export type PlannerConfig = z.infer<typeof PlannerConfig>;
export type PlannerConfigInput = z.input<typeof PlannerConfig>;

/** The defaults, for help texts. */
export const PLANNER_DEFAULTS: PlannerConfig = PlannerConfig.parse({});
