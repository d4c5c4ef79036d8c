// Settings of a dispatcher (`meshserve dispatcher`, and the one `meshserve start` forks), with
// every default in one place.

export interface DispatcherOptions {
  /** Extra time after a request's deadline before it is answered with a timeout error (ms). */
  graceMs?: number;
  /** Timeout of requests without an SLO (ms). */
  noSloTimeoutMs?: number;
  /** How often observed per-model rates are written to Redis (ms); 0 = never. */
  rateIntervalMs?: number;
  /** How often the devices of busy groups are pinged (ms); default a quarter of the registry heartbeat interval. */
  probeIntervalMs?: number;
}

export const DISPATCHER_DEFAULTS = {
  graceMs: 2_000,
  noSloTimeoutMs: 60_000,
  rateIntervalMs: 5_000,
} as const satisfies DispatcherOptions;

/** The ping interval when none is given: a quarter of the heartbeat interval (default 1 s), at least 50 ms. */
export function probeIntervalMs(o: DispatcherOptions, heartbeatIntervalMs: number | undefined): number {
  return o.probeIntervalMs ?? Math.max(50, (heartbeatIntervalMs ?? 1_000) / 4);
}
