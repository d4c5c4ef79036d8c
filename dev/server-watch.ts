// `meshserve start` keeps the servers it started alive: a nats-server or redis-server child that
// dies (crash, OOM killer, someone's kill -9) is started again on the same port, and the operator
// is told. Every actor reconnects by itself (NATS clients retry forever, every 250 ms; Redis
// clients with a capped back-off), so the cluster serves again once the server is back.
import type { LocalServer } from './servers.js';

export interface ServerWatchOptions {
  /** Where to say what happened (a line each). */
  info(line: string): void;
  /** Restarts allowed within `windowMs` before giving up. Default 5 within 60 s. */
  maxRestarts?: number;
  windowMs?: number;
  /** Pause before a restart (ms), doubled after a failed attempt. Default 100. */
  backoffMs?: number;
}

/** Restarts each of `servers` on its port whenever it dies; returns a function that stops watching. */
export function keepServersAlive(servers: readonly LocalServer[], o: ServerWatchOptions): () => void {
  let stopped = false;
  const offs = servers.map((server) => {
    const restarts: number[] = [];
    return server.onUnexpectedExit((code, signal) => {
      if (stopped) return;
      const diedAt = Date.now();
      const windowMs = o.windowMs ?? 60_000;
      const recent = restarts.filter((t) => diedAt - t < windowMs);
      restarts.splice(0, restarts.length, ...recent);
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      if (restarts.length >= (o.maxRestarts ?? 5)) {
        o.info(
          `${server.name} on port ${server.port} died (${how}) ${restarts.length} times within ${windowMs / 1000} s: not restarting it; the cluster cannot serve until it is back`,
        );
        return;
      }
      restarts.push(diedAt);
      o.info(`${server.name} on port ${server.port} died (${how}); restarting it on the same port`);
      void restart(server, diedAt, o.backoffMs ?? 100);
    });
  });
  const restart = async (server: LocalServer, diedAt: number, pauseMs: number): Promise<void> => {
    for (let attempt = 1; !stopped; attempt++) {
      await new Promise((r) => setTimeout(r, pauseMs));
      if (stopped) return;
      try {
        await server.restart();
        o.info(
          `${server.name} back on port ${server.port} after ${((Date.now() - diedAt) / 1000).toFixed(1)} s; every process reconnects by itself`,
        );
        return;
      } catch (err) {
        if (attempt >= 5) {
          o.info(`${server.name} could not be restarted on port ${server.port}: ${(err as Error).message}`);
          return;
        }
        pauseMs *= 2;
      }
    }
  };
  return () => {
    stopped = true;
    for (const off of offs) off();
  };
}
