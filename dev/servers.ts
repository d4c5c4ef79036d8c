// Private nats-server / redis-server child processes on free loopback ports.
//
// Used by the test harness (test/helpers/servers.ts), the benchmarks and `meshserve start`.
// Every server started here is tracked and killed when this process exits, however it exits
// (normal exit, test failure, uncaught error), so a failing test never leaves servers behind.
// `restart()` brings a server back on the SAME port, which fault tests rely on.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalServer {
  /** What it is: `nats-server` or `redis-server`. */
  readonly name: string;
  /** Client URL, e.g. nats://127.0.0.1:41234 or redis://127.0.0.1:41235. */
  readonly url: string;
  readonly port: number;
  /** A nats-server's HTTP monitoring endpoint (`/connz`, `/routez`, …), when it has one. */
  readonly monitorUrl?: string;
  /** Pid of the current child process (changes after restart). */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Graceful stop (SIGTERM), waits for the process to exit. */
  stop(): Promise<void>;
  /** Hard kill (SIGKILL), waits for the process to exit: simulates a crash. */
  kill(): Promise<void>;
  /** Start again on the same port (stops first if running) and wait until it accepts connections. */
  restart(): Promise<void>;
  /** Stop and remove the server's temporary directory. */
  close(): Promise<void>;
  /**
   * Calls `listener` whenever the process exits other than through stop(), kill(), restart() or
   * close() (it crashed, or someone else killed it). Returns a function that removes it.
   */
  onUnexpectedExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): () => void;
}

export interface NatsServerOptions {
  /** Port to listen on; a free one is chosen when omitted. */
  port?: number;
  /** Enable JetStream (stored in the server's temporary directory). */
  jetstream?: boolean;
  /** Path of the binary; found on PATH or in /usr/sbin otherwise. */
  binary?: string;
  /** A nats-server config file (`-c`), e.g. users and permissions; port and address still come from here. */
  configFile?: string;
  /** Extra environment for the server, e.g. passwords the config file references as `$VAR`. */
  env?: Record<string, string>;
  /** Address to listen on and to put in the URL. Default 127.0.0.1. */
  host?: string;
  /** Run inside this network namespace (`ip netns exec`); `host` is then an address of it. */
  netns?: string;
  /** The server's name (unique in a cluster; JetStream needs one). */
  serverName?: string;
  /** Join a cluster: its name, this server's route port, and the routes to the others. */
  cluster?: { name: string; port: number; routes: string[] };
  /** Serve HTTP monitoring on this port (`monitorUrl`). */
  httpPort?: number;
  /** More command-line arguments, as they are. */
  extraArgs?: string[];
}

export interface RedisServerOptions {
  port?: number;
  binary?: string;
  /** Require this password (`--requirepass`); the returned url carries it (`redis://:<password>@...`). */
  password?: string;
  /** Address to listen on and to put in the URL. Default 127.0.0.1. */
  host?: string;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
}

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every server this process started. Synchronous so it can run in an 'exit' hook. */
export function killAllLocalServers(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', killAllLocalServers);
}

/** Finds a binary on PATH or in the sbin directories Debian uses for nats-server. */
export function findBinary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found on PATH or in /usr/sbin; run scripts/ensure-servers.sh to install it`);
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function waitForPort(
  host: string,
  port: number,
  child: ChildProcess,
  name: string,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited before accepting connections on port ${port}: ${stderr().trim()}`);
    }
    if (await canConnect(host, port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${name} did not accept connections on port ${port} within ${READY_TIMEOUT_MS} ms`);
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A child server process that can be stopped, killed and restarted on a fixed port. */
class ChildServer implements LocalServer {
  private child: ChildProcess | undefined;
  private stderrTail = '';
  /** Set while this object itself stops the process. */
  private stopping = false;
  private readonly exitListeners = new Set<(code: number | null, signal: NodeJS.Signals | null) => void>();

  constructor(
    readonly name: string,
    private readonly binary: string,
    private readonly args: string[],
    readonly port: number,
    readonly url: string,
    private readonly dir: string,
    private readonly env: Record<string, string> = {},
    private readonly where: { host: string; netns?: string } = { host: '127.0.0.1' },
    readonly monitorUrl?: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    installExitHook();
    this.stderrTail = '';
    // Own process group: a terminal's Ctrl-C reaches `meshserve start` and its actors, which drain
    // against live servers before start stops these itself (the exit hook still kills them).
    // In a namespace through `ip netns exec`, which execs the server: the pid is the server's.
    const [command, args] = this.where.netns
      ? ['ip', ['netns', 'exec', this.where.netns, this.binary, ...this.args]]
      : [this.binary, this.args];
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      env: { ...process.env, ...this.env },
    });
    this.child = child;
    live.add(child);
    child.once('exit', (code, signal) => {
      live.delete(child);
      if (this.stopping || this.child !== child) return;
      for (const listener of this.exitListeners) listener(code, signal);
    });
    // Keep the last few KB of stderr for error messages (nats-server logs there).
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4096);
    });
    child.once('error', (err) => {
      this.stderrTail += `\n${err.message}`;
    });
    await waitForPort(this.where.host, this.port, child, this.name, () => this.stderrTail);
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.stopping = true;
    try {
      child.kill(sig);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await waitForExit(child);
      clearTimeout(timer);
    } finally {
      this.stopping = false;
    }
  }

  onUnexpectedExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<LocalServer> {
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'meshserve-nats-'));
  const args = ['-a', host, '-p', String(port)];
  if (options.configFile) args.unshift('-c', options.configFile);
  if (options.serverName) args.push('-n', options.serverName);
  if (options.jetstream) args.push('-js', '-sd', dir);
  if (options.httpPort !== undefined) args.push('-m', String(options.httpPort));
  if (options.cluster) {
    const { name, port: routePort, routes } = options.cluster;
    args.push('--cluster_name', name, '--cluster', `nats://${host}:${routePort}`);
    if (routes.length) args.push('--routes', routes.join(','));
  }
  if (options.extraArgs) args.push(...options.extraArgs);
  const server = new ChildServer(
    'nats-server',
    options.binary ?? findBinary('nats-server'),
    args,
    port,
    `nats://${host}:${port}`,
    dir,
    options.env,
    { host, netns: options.netns },
    options.httpPort === undefined ? undefined : `http://${host}:${options.httpPort}`,
  );
  await server.start();
  return server;
}

export interface NatsClusterOptions {
  /** Servers in the cluster. Default 3. */
  size?: number;
  /** JetStream on every server (each with its own name and store directory). Default true. */
  jetstream?: boolean;
  /** A config file every server loads (users and permissions: the same on every server). */
  configFile?: string;
  env?: Record<string, string>;
  /** Cluster name. Default `meshserve`. */
  name?: string;
  /** Where each server listens and runs (default: all on loopback, here); one entry per server. */
  hosts?: ReadonlyArray<{ host: string; netns?: string }>;
}

export interface LocalNatsCluster {
  readonly servers: readonly LocalServer[];
  /** Each server's name (`-n`), in the order of `servers`: how JetStream names its leaders. */
  readonly serverNames: readonly string[];
  /** Every server's URL, comma-separated: what NATS_URL takes. */
  readonly url: string;
  /** Resolves once JetStream answers on every server (a meta leader is elected), or rejects after `timeoutMs`. */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A cluster of nats-servers with full-mesh routes (each server solicits a route to every other):
 * client, route and monitoring ports free on loopback, or on each server's own address. Each
 * server is a LocalServer: kill and restart one on its ports, and it rejoins the cluster.
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<LocalNatsCluster> {
  const size = options.size ?? options.hosts?.length ?? 3;
  const name = options.name ?? 'meshserve';
  const hosts: ReadonlyArray<{ host: string; netns?: string }> =
    options.hosts ?? Array.from({ length: size }, () => ({ host: '127.0.0.1' }));
  if (hosts.length !== size) throw new Error(`${size} servers but ${hosts.length} hosts`);
  const ports = await Promise.all(
    hosts.map(async () => ({ client: await freePort(), route: await freePort(), http: await freePort() })),
  );
  const routeOf = (i: number): string => `nats://${hosts[i].host}:${ports[i].route}`;
  const serverNames = hosts.map((_, i) => `${name}-${i + 1}`);
  const servers: LocalServer[] = [];
  try {
    // One at a time: the first ones retry their routes to the others until those are up.
    for (let i = 0; i < size; i++) {
      servers.push(
        await startNatsServer({
          port: ports[i].client,
          host: hosts[i].host,
          netns: hosts[i].netns,
          serverName: serverNames[i],
          jetstream: options.jetstream ?? true,
          configFile: options.configFile,
          env: options.env,
          httpPort: ports[i].http,
          cluster: { name, port: ports[i].route, routes: hosts.flatMap((_, j) => (j === i ? [] : [routeOf(j)])) },
        }),
      );
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  return {
    servers,
    serverNames,
    url: servers.map((s) => s.url).join(','),
    waitForJetStream: (timeoutMs = 30_000) => waitForJetStream(servers, timeoutMs),
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

/** Polls each server's `/jsz` until JetStream is enabled and a meta leader is known. */
async function waitForJetStream(servers: readonly LocalServer[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const server of servers) {
    if (!server.monitorUrl) continue;
    for (;;) {
      const jsz = await fetch(`${server.monitorUrl}/jsz`)
        .then((r) => r.json() as Promise<{ disabled?: boolean; meta_cluster?: { leader?: string } }>)
        .catch(() => undefined);
      if (jsz && !jsz.disabled && jsz.meta_cluster?.leader) break;
      if (Date.now() > deadline) throw new Error(`JetStream not ready on ${server.url} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<LocalServer> {
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'meshserve-redis-'));
  // No persistence: a restarted test server starts empty, like a fresh deployment.
  const args = [
    '--port',
    String(port),
    '--bind',
    host,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--loglevel',
    'warning',
  ];
  if (options.password) args.push('--requirepass', options.password);
  // Off loopback (a test host in a namespace) Redis refuses clients without a password otherwise.
  else if (host !== '127.0.0.1') args.push('--protected-mode', 'no');
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const server = new ChildServer(
    'redis-server',
    options.binary ?? findBinary('redis-server'),
    args,
    port,
    `redis://${auth}${host}:${port}`,
    dir,
    {},
    { host, netns: options.netns },
  );
  await server.start();
  return server;
}

export interface LocalInfrastructure {
  natsUrl: string;
  redisUrl: string;
  /** Servers started here (empty when both URLs were given). */
  started: LocalServer[];
  /** Stops the servers started here; leaves given ones alone. */
  close(): Promise<void>;
}

/**
 * Uses the given URLs, and starts a private nats-server / redis-server for each one missing
 * (free ports). What `meshserve start` runs on when NATS_URL / REDIS_URL are not set.
 */
export async function startLocalInfrastructure(
  urls: { natsUrl?: string; redisUrl?: string } = {},
): Promise<LocalInfrastructure> {
  const started: LocalServer[] = [];
  const startIfMissing = async (url: string | undefined, start: () => Promise<LocalServer>): Promise<string> => {
    if (url) return url;
    const server = await start();
    started.push(server);
    return server.url;
  };
  try {
    const natsUrl = await startIfMissing(urls.natsUrl, () => startNatsServer({ jetstream: true }));
    const redisUrl = await startIfMissing(urls.redisUrl, () => startRedisServer());
    const close = async (): Promise<void> => {
      await Promise.all(started.map((s) => s.close()));
    };
    return { natsUrl, redisUrl, started, close };
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
}
