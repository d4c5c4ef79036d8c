// Settings of the commands that are not actors (start, status, repl, replay, profile, bench):
// they log only warnings unless LOG_LEVEL says otherwise, and the operator tools give up
// connecting after a while instead of retrying forever as actors do.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from './environment.js';

/** Log level of an actor process when LOG_LEVEL is unset. */
export const ACTOR_LOG_LEVEL = 'info';
/** Log level of the other commands when LOG_LEVEL is unset. */
export const TOOL_LOG_LEVEL = 'warn';

/** How long status and the REPL try to reach NATS and Redis (ms). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** The REPL's history file ('' = none). */
export function replHistoryFile(env: Environment): string {
  return env.replHistory ?? join(homedir(), '.meshserve_repl_history');
}

/** Defaults of `meshserve start`. */
export const START_DEFAULTS = {
  workers: 8,
  demoSeconds: 30,
  demoRate: 20,
} as const;
