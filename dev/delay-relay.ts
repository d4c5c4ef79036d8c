// A TCP relay that delays every byte by a fixed time each way: the stand-in for `tc netem delay`
// on kernels built without sch_netem. Each connection to `listen` is relayed to `target`; what
// either side sends is written to the other `delayMs` later, in order. It emulates the latency of
// a link, not its bandwidth or losses. Run as its own process (the relay's timers must not share
// an event loop with the load it measures):
//
//   node dist/dev/delay-relay.js --listen 10.1.2.1:0 --to 10.1.2.10:4222 --delay-ms 10
//
// It prints `listening <host>:<port>` once ready, and stops on SIGTERM or when stdin closes.
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

function hostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const port = Number(value.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0) throw new Error(`"${value}" is not host:port`);
  return { host: value.slice(0, i), port };
}

/** Writes what `from` sends to `to`, `delayMs` later (equal timeouts fire in order). */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
}

function serve(listen: { host: string; port: number }, target: { host: string; port: number }, delayMs: number): void {
  const server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = createConnection(target);
    upstream.setNoDelay(true);
    pipeDelayed(client, upstream, delayMs);
    pipeDelayed(upstream, client, delayMs);
  });
  server.listen(listen.port, listen.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : listen.port;
    process.stdout.write(`listening ${listen.host}:${port}\n`);
  });
  const stop = (): void => process.exit(0);
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

export interface DelayRelay {
  /** `nats://<host>:<port>` style address of the relay: host:port. */
  readonly address: string;
  readonly pid: number | undefined;
  close(): Promise<void>;
}

/** Starts a relay process (in this process's network namespace); resolves once it listens. */
export async function startDelayRelay(o: { listen: string; target: string; delayMs: number }): Promise<DelayRelay> {
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--listen', o.listen, '--to', o.target, '--delay-ms', String(o.delayMs)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`delay relay exited (${code}) before listening`)));
  });
  return {
    address,
    pid: child.pid,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { listen: { type: 'string' }, to: { type: 'string' }, 'delay-ms': { type: 'string' } },
  });
  const delayMs = Number(values['delay-ms']);
  if (!values.listen || !values.to || !Number.isFinite(delayMs) || delayMs < 0) {
    process.stderr.write('usage: delay-relay --listen host:port --to host:port --delay-ms n\n');
    process.exit(2);
  }
  serve(hostPort(values.listen), hostPort(values.to), delayMs);
}
