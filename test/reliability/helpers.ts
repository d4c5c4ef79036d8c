// Reliability harness for the tests: the fault-run tooling of dev/faults (process cluster, load
// client, taps) with logs silent by default, and a server outage helper.
import type { LocalServer } from '../../dev/servers.js';

process.env.LOG_LEVEL ??= 'silent';

import {
  type ProcessCluster,
  type ProcessClusterOptions,
  startProcessCluster as startCluster,
} from '../../dev/faults/process-cluster.js';
import { sleep } from '../../dev/faults/wait.js';

/** The cluster processes log at LOG_LEVEL (silent unless set). */
export function startProcessCluster(o: ProcessClusterOptions): Promise<ProcessCluster> {
  return startCluster({ logLevel: process.env.LOG_LEVEL, ...o });
}

export {
  attainment,
  fmtMs,
  LoadClient,
  longestAnswerBefore,
  type RequestRecord,
  type RequestSpec,
  recordAccepted,
  recordGroupEvents,
  type StatusCounts,
  statusCounts,
} from '../../dev/faults/load-client.js';
export type { ProcessCluster, ProcessClusterOptions } from '../../dev/faults/process-cluster.js';
export { sleep, until } from '../../dev/faults/wait.js';

/**
 * Kills `server` (SIGKILL), keeps it down `downMs`, restarts it on the same port: when it died and
 * when it accepted connections again (epoch ms).
 */
export async function outage(server: LocalServer, downMs: number): Promise<{ killedAt: number; restartedAt: number }> {
  const killedAt = Date.now();
  await server.kill();
  await sleep(downMs);
  await server.restart();
  return { killedAt, restartedAt: Date.now() };
}
