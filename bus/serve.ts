// Runs one actor in this process until SIGINT/SIGTERM, then drains it (every accepted message
// is answered) and closes the connections. Used by `meshserve worker|dispatcher|planner`.
import type { SpawnOptions } from './actor.js';
import type { Logger } from './log.js';
import { ActorSystem } from './system.js';

export interface ServeActorOptions<A> {
  name: string;
  instance: A;
  spawn?: SpawnOptions<A>;
  natsUrl?: string;
  redisUrl?: string;
  /** The process's logger. */
  log?: Logger;
  /** Called once the actor is ready. */
  onReady?: (system: ActorSystem) => void | Promise<void>;
}

export async function serveActor<A extends object>(o: ServeActorOptions<A>): Promise<void> {
  const system = await ActorSystem.connect({
    natsUrl: o.natsUrl,
    redisUrl: o.redisUrl,
    log: o.log,
    name: `meshserve-${o.name}`,
  });
  try {
    await system.spawn(o.name, o.instance, o.spawn);
    await o.onReady?.(system);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await system.close();
  }
}
