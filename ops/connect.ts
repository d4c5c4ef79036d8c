// Connecting an operator tool (repl, status) to the cluster: like ActorSystem.connect, but it
// gives up after `timeoutMs` instead of retrying forever as actors do, and it does not sweep
// dead actors on the cluster's behalf. A lost race leaves the connection attempt retrying in
// the background, so callers exit the process on failure (the CLI does).
import { ActorSystem, type Logger } from '../bus/index.js';

export interface OperatorConnection {
  natsUrl: string;
  redisUrl: string;
  timeoutMs: number;
  log: Logger;
}

export async function connectOperator(name: string, o: OperatorConnection): Promise<ActorSystem> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no connection to NATS_URL/REDIS_URL within ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
  });
  try {
    return await Promise.race([
      ActorSystem.connect({ name, natsUrl: o.natsUrl, redisUrl: o.redisUrl, log: o.log, watchDead: false }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
