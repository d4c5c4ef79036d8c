// The HTTP side of the metrics: GET /metrics serves a Prometheus text exposition (the
// dispatcher's, rendered by prom-client), GET /healthz says whether it can be had; other paths
// may be served by `routes` (the dashboard, ops/dashboard/http.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** The content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics (the text `exposition` resolves to) and GET /healthz (200 "ok" when it
 * resolves, 503 with the reason otherwise). Port 0 picks a free port.
 */
export async function serveMetrics(
  exposition: () => Promise<string>,
  options: {
    port?: number;
    host?: string;
    /** Serves other paths; returns false for a path it does not know. */
    routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  } = {},
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/healthz')) {
      if (options.routes?.(req, res)) return;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics or /healthz\n');
      return;
    }
    Promise.resolve()
      .then(exposition)
      .then((text) => {
        if (path === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        else res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(text);
      })
      .catch((err: unknown) => {
        res
          .writeHead(503, { 'content-type': 'text/plain' })
          .end(`unavailable: ${(err as Error)?.message ?? String(err)}\n`);
      });
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // open event streams would hold the close forever
      }),
  };
}
