// Connecting an operator tool (repl, status) to the cluster: like ActorSystem.connect, but it
// gives up after `timeoutMs` instead of retrying forever as actors do, and it does not sweep
// dead actors on the cluster's behalf. A lost race leaves the connection attempt retrying in
// the background, so callers exit the process on failure (the CLI does).
import { ActorSystem } from '../bus/index.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export async function connectOperator(name: string, timeoutMs: number = DEFAULT_CONNECT_TIMEOUT_MS): Promise<ActorSystem> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection to NATS_URL/REDIS_URL within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([ActorSystem.connect({ name, watchDead: false }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
