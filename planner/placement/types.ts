// The placement problem's inputs and outputs, shared by every algorithm (AlpaServe's search, the
// baselines) and by callers that pick an algorithm by name (experiments, the planner actor).
import type { Profiles } from '../profile.js';
import type { ClusterSpec, ParallelConfig, Placement, SimOptions, Workload } from '../types.js';

export interface PlacementInput {
  readonly cluster: ClusterSpec;
  readonly profiles: Profiles;
  /** The training workload placements are scored on (every model in it needs a profile). */
  readonly workload: Workload;
  /** Simulator options used for scoring (trimming is ignored: scoring uses every request). */
  readonly sim?: SimOptions;
  /** The operator's groups, for the `static` algorithm. */
  readonly groups?: readonly GroupInput[];
}

/** A group as an operator writes it: a config and its models, optionally repeated `count` times. */
export interface GroupInput {
  readonly config: ParallelConfig;
  readonly models: readonly string[];
  readonly count?: number;
}

/** One window of a schedule: its placement from `start` to `end` (seconds on the workload's clock). */
export interface ScheduledWindow {
  readonly start: number;
  readonly end: number;
  readonly placement: Placement;
  /** Seconds after `start` each group is out of service loading weights (swap cost); absent = none. */
  readonly loading?: readonly number[];
}

/** A placement that changes over time (Clockwork++, adaptive AlpaServe), window by window. */
export interface PlacementSchedule {
  readonly windows: readonly ScheduledWindow[];
  /**
   * How queues cross a window boundary. 'empty' (default): every window starts with empty queues,
   * as the paper's Clockwork++ baseline is simulated (generous: a backlog vanishes at each
   * boundary). 'carried': the work left at a boundary still runs, as on a real cluster (see
   * simulateSchedule).
   */
  readonly queues?: 'empty' | 'carried';
}

/** Counters of what a search did (no wall-clock time: the planner has no clock; callers time it). */
export interface SearchStats {
  /** Placements simulated. */
  simulations: number;
  /** Group layouts (cluster splits) searched. */
  layouts: number;
  /** Layouts skipped because no model fits any of their groups. */
  layoutsPruned: number;
  /** For beam search: whether its best beat the fast greedy on the same layouts. */
  beamBeatGreedy?: boolean;
}

export interface PlacementResult {
  readonly algorithm: string;
  readonly placement: Placement;
  /** Set when the algorithm re-places over time; `placement` is then its first window's. */
  readonly schedule?: PlacementSchedule;
  /** attainment − mean latency/10⁴ + replicas/10⁶ on the training workload (docs/alpaserve.md, "Placement"). */
  readonly score: number;
  /** SLO attainment on the training workload. */
  readonly attainment: number;
  readonly stats: SearchStats;
  /**
   * Set by a policy that re-places online (adaptive AlpaServe): how it re-places, so that an
   * evaluation replays it on the test workload, deciding each window from the traffic before it.
   */
  readonly online?: OnlinePolicy;
}

/** What an online evaluation needs to replay adaptive AlpaServe (`placement` is its starting point). */
export interface OnlinePolicy {
  readonly kind: 'adaptive';
  readonly cluster: ClusterSpec;
  readonly options: PlacementOptions;
  readonly sim?: SimOptions;
}

/** A way to split the cluster: one parallel config per group, in group order. */
export type GroupLayout = readonly ParallelConfig[];

/** Progress of a long search: layout searches done of this phase's total. */
export interface SearchProgress {
  readonly phase: 'greedy' | 'beam';
  readonly done: number;
  readonly total: number;
}

export interface PlacementOptions {
  /** Beam width for AlpaServe's model selection; 1 = the fast greedy. */
  readonly beam?: number;
  /** Beam search expands the `expandModels` models with the most unserved requests… */
  readonly expandModels?: number;
  /** …on the `expandGroups` least-loaded distinct groups. */
  readonly expandGroups?: number;
  /** Beam search runs on the best `beamLayouts` layouts found by the fast greedy. */
  readonly beamLayouts?: number;
  /** Worker threads for independent layout searches (0 or 1 = in this thread). */
  readonly workers?: number;
  /** Clockwork++ and adaptive AlpaServe: window length, seconds. */
  readonly window?: number;
  /**
   * Clockwork++: charge each re-placement its swap cost (groups whose models change are out of
   * service while their weights load). Default false: the paper's zero-cost oracle.
   */
  readonly swapCost?: boolean;
  /** Weight-load bandwidth for swap costs, bytes/s; default 16e9 (PCIe-like). */
  readonly loadBandwidth?: number;
  /**
   * Adaptive AlpaServe's hysteresis: re-place only when the predicted gain, net of the swap cost,
   * exceeds this fraction of the window's requests. Default 0.002.
   */
  readonly minGain?: number;
  /**
   * Adaptive AlpaServe: a net gain above this fraction of the window's requests is trusted at its
   * first judgement, without waiting for a second (default 0.02; Infinity = always wait).
   */
  readonly clearGain?: number;
  /**
   * Adaptive AlpaServe: windows over which going back to the starting placement is expected to keep
   * its gain (its weight load is paid once). Default 5; 1 judges it on one window, like a fit.
   */
  readonly homeHorizon?: number;
  /**
   * Adaptive AlpaServe: weight loads a switch away from the starting placement is charged; 2 counts
   * the load back when the traffic moves on. Default 1.5: the load out and half the load back.
   */
  readonly departureLoads?: number;
  /** Adaptive AlpaServe: windows of past traffic its candidates are fitted on (default 1, the last). */
  readonly history?: number;
  /** Adaptive AlpaServe: weight of all older traffic (at its mean rates) in what candidates are fitted on. */
  readonly pastWeight?: number;
  /** Fixed-pipeline baseline: devices (= stages) per group. */
  readonly stages?: number;
  /** Use model buckets for mixed model sets (default true). */
  readonly buckets?: boolean;
  /** Progress of a long search: after each layout searched in this thread, after each batch on a worker pool. */
  readonly onProgress?: (p: SearchProgress) => void;
}

export interface PlacementAlgorithm {
  readonly name: string;
  /** Other names it answers to. */
  readonly aliases?: readonly string[];
  readonly description: string;
  /** Whether the placement depends on the workload's traffic (a live planner re-places when it moves). */
  readonly usesWorkload: boolean;
  /** Whether it needs the future (the whole test workload): an experiment baseline, not for a live planner. */
  readonly oracle?: boolean;
  /**
   * The PlacementOptions a caller may set for it (`beam`, `window`, …). Callers refuse the others
   * rather than ignore them: an option that changes nothing must not look as if it did.
   */
  readonly takes?: readonly (keyof PlacementOptions)[];
  place(input: PlacementInput, options?: PlacementOptions): Promise<PlacementResult>;
}
