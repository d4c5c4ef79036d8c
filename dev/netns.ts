// Hosts on one machine: Linux network namespaces joined by veth pairs to a bridge, for fault
// tests that need a real network between processes (a host cut off without its TCP connections
// closing, delay on a link). Needs root and iproute2 (`ip`, `tc`).
//
//   switch namespace <prefix>-sw: bridge br0
//   each host: namespace <prefix>-<label>, its end of a veth pair (eth0, 10.a.b.<10+i>/24), the
//     other end in the switch namespace on the bridge
//   this process's namespace: one more veth pair on the bridge (10.a.b.1/24), so the test itself
//     reaches every host; nothing else of this namespace is touched
//
// Every name starts with a prefix unique to this run (other runs may share the machine), and the
// subnet is a free 10.a.b.0/24. `destroy()` kills what still runs inside the namespaces (by PID),
// then deletes them; a process that exits without calling it does the same in an exit hook.
import { execFileSync, spawnSync } from 'node:child_process';

export interface NetnsHost {
  readonly label: string;
  /** The namespace's name (`ip netns exec <netns> …`). */
  readonly netns: string;
  readonly address: string;
  /** Its link's end on the switch (taken down to cut the host off). */
  readonly switchPort: string;
}

export interface Netns {
  readonly prefix: string;
  /** This process's address on the switch. */
  readonly localAddress: string;
  readonly hosts: ReadonlyMap<string, NetnsHost>;
  host(label: string): NetnsHost;
  /** The command prefix that runs a program on `label`: `['ip', 'netns', 'exec', <netns>]`. */
  wrap(label: string): string[];
  /** Cuts the host off: its switch port goes down, packets are dropped, no connection is closed. */
  cut(label: string): void;
  heal(label: string): void;
  /** Delays every packet of the host's link by `ms` each way (tc netem on both ends); 0 removes it. */
  delay(label: string, ms: number): void;
  /** Kills what runs inside the namespaces, then deletes them (idempotent). */
  destroy(): void;
}

/** Why namespaces cannot be made here (not root, no iproute2), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root, as CI does)';
  const probe = `msprobe${process.pid.toString(36)}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error) return `iproute2 is not installed (${add.error.message}); scripts/ensure-servers.sh installs it`;
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/** Whether tc netem (the kernel's sch_netem) works here: some kernels are built without it. */
export function netemUnavailable(): string | undefined {
  const probe = `msnetem${process.pid.toString(36)}`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0) return 'ip netns add failed';
  try {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'],
      {
        encoding: 'utf8',
      },
    );
    if (r.error) return `tc is not installed (${r.error.message})`;
    return r.status === 0 ? undefined : `tc netem: ${r.stderr.trim()} (this kernel has no sch_netem)`;
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
}

const live = new Set<Netns>();
let exitHook = false;

function run(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A free 10.a.b.0/24: none of this namespace's routes overlaps it. */
function freeSubnet(): string {
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout ?? '';
  for (let attempt = 0; attempt < 50; attempt++) {
    const subnet = `10.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 256)}`;
    if (!routes.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.x.y.0/24 subnet found for the namespaces');
}

/** Builds one namespace per label, all on one switch, plus a link from this namespace. */
export function createNetns(labels: readonly string[]): Netns {
  if (labels.length > 200) throw new Error('at most 200 hosts');
  // Interface names have at most 15 characters: <prefix (≤ 8)><h|s><index><…>.
  const prefix = `ms${(process.pid % 46_656).toString(36)}${Math.floor(Math.random() * 1_296).toString(36)}`;
  const subnet = freeSubnet();
  const sw = `${prefix}-sw`;
  const namespaces = [sw];
  const rootLink = `${prefix}r`;
  const hosts = new Map<string, NetnsHost>();
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    live.delete(netns);
    for (const ns of namespaces) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', rootLink]); // gone with its peer already, normally
  };
  const netns: Netns = {
    prefix,
    localAddress: `${subnet}.1`,
    hosts,
    host: (label) => {
      const h = hosts.get(label);
      if (!h) throw new Error(`no host "${label}" (have: ${[...hosts.keys()].join(', ')})`);
      return h;
    },
    wrap: (label) => ['ip', 'netns', 'exec', netns.host(label).netns],
    cut: (label) => run(['-n', sw, 'link', 'set', netns.host(label).switchPort, 'down']),
    heal: (label) => run(['-n', sw, 'link', 'set', netns.host(label).switchPort, 'up']),
    delay: (label, ms) => {
      const h = netns.host(label);
      for (const [ns, dev] of [
        [sw, h.switchPort],
        [h.netns, 'eth0'],
      ]) {
        spawnSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);
        if (ms > 0)
          execFileSync(
            'ip',
            ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${ms}ms`],
            {
              stdio: ['ignore', 'ignore', 'pipe'],
            },
          );
      }
    },
    destroy,
  };
  live.add(netns);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const n of [...live]) n.destroy();
    });
  }
  try {
    run(['netns', 'add', sw]);
    run(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    run(['-n', sw, 'link', 'set', 'br0', 'up']);
    // This namespace's link to the switch.
    run(['link', 'add', rootLink, 'type', 'veth', 'peer', 'name', `${prefix}rs`]);
    run(['link', 'set', `${prefix}rs`, 'netns', sw]);
    run(['-n', sw, 'link', 'set', `${prefix}rs`, 'master', 'br0', 'up']);
    run(['addr', 'add', `${subnet}.1/24`, 'dev', rootLink]);
    run(['link', 'set', rootLink, 'up']);
    labels.forEach((label, i) => {
      const ns = `${prefix}-${label}`;
      const inside = `${prefix}h${i}`;
      const port = `${prefix}s${i}`;
      run(['netns', 'add', ns]);
      namespaces.push(ns);
      run(['-n', ns, 'link', 'set', 'lo', 'up']);
      run(['link', 'add', inside, 'type', 'veth', 'peer', 'name', port]);
      run(['link', 'set', inside, 'netns', ns]);
      run(['link', 'set', port, 'netns', sw]);
      run(['-n', ns, 'link', 'set', inside, 'name', 'eth0']);
      run(['-n', ns, 'addr', 'add', `${subnet}.${10 + i}/24`, 'dev', 'eth0']);
      run(['-n', ns, 'link', 'set', 'eth0', 'up']);
      run(['-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
      hosts.set(label, { label, netns: ns, address: `${subnet}.${10 + i}`, switchPort: port });
    });
  } catch (err) {
    destroy();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`could not build the namespaces: ${stderr || (err as Error).message}`);
  }
  return netns;
}
