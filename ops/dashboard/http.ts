// The dashboard over HTTP, next to /metrics on the same port: the page and its script at `/`,
// uPlot (from node_modules: no CDN, works offline) under /vendor/, the state as JSON at
// /api/state, and every new sample as a server-sent event on /api/stream.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { DashboardFeed } from './feed.js';

const require = createRequire(import.meta.url);
const here = (file: string) => fileURLToPath(new URL(`./static/${file}`, import.meta.url));

/** URL path → file and content type. Read at each request: small, and edits show without a restart. */
const FILES: Record<string, { file: () => string; type: string }> = {
  '/': { file: () => here('index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: () => here('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: () => here('dashboard.css'), type: 'text/css; charset=utf-8' },
  '/vendor/uPlot.iife.min.js': {
    file: () => require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/vendor/uPlot.min.css': { file: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** A request handler for the dashboard's paths; false for any other path (left to the caller). */
export function dashboardRoutes(feed: DashboardFeed): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return false;
    const asset = FILES[path === '/index.html' ? '/' : path];
    if (asset) {
      try {
        res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' }).end(readFileSync(asset.file()));
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`dashboard file missing: ${(err as Error).message}\n`);
      }
      return true;
    }
    if (path === '/api/state') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      res.end(JSON.stringify(feed.state()));
      return true;
    }
    if (path === '/api/stream') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write('retry: 2000\n\n');
      const stop = feed.onTick((tick) => res.write(`event: tick\ndata: ${JSON.stringify(tick)}\n\n`));
      req.on('close', stop);
      return true;
    }
    return false;
  };
}
