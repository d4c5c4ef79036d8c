// Runs one actor in this process until SIGINT/SIGTERM, then drains it (every accepted message
// is answered) and closes the connections. Used by `meshserve worker|dispatcher|planner`.
import { ActorSystem, type SpawnOptions } from '../bus/index.js';

export interface ServeActorOptions<A> {
  name: string;
  instance: A;
  spawn?: SpawnOptions<A>;
  natsUrl?: string;
  redisUrl?: string;
  /** Called once the actor is ready. */
  onReady?: (system: ActorSystem) => void | Promise<void>;
}

export async function serveActor<A extends object>(o: ServeActorOptions<A>): Promise<void> {
  const system = await ActorSystem.connect({ natsUrl: o.natsUrl, redisUrl: o.redisUrl, name: `meshserve-${o.name}` });
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
