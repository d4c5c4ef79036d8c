// The mesh groups a dispatcher routes to, and their health. Fault domains are mesh groups: a
// group is out of routing while one of its devices is lost, or for a back-off after "no
// responders" on one of its stages. Each fact is held once — the lost devices (with why) for the
// whole table, the back-off per group — and every group's state is derived from them.
import { GroupLatencyModel } from '../../planner/latency-model.js';
import type { RuntimePlacement } from '../protocol/placement.js';

export interface MeshGroup {
  readonly id: string;
  readonly version: number;
  readonly models: readonly string[];
  readonly devices: ReadonlySet<string>;
  /** The simulator's latency model of the group: its clocks and its models' stage times. */
  readonly latency: GroupLatencyModel;
  /** The subject of its first stage. */
  readonly firstStage: string;
  /** Total clock shift applied from lateness corrections (seconds). */
  shift: number;
  /** Requests booked here and not answered yet. */
  inflight: number;
  routed: number;
  ok: number;
  errors: number;
  /**
   * Out of routing until then (epoch s) after "no responders"; 0 once routed to again. The
   * back-off (s) doubles while that repeats and is cleared by a completion.
   */
  retryAt: number;
  backoff: number;
  /** Epoch s of its last successful completion: every device of it was alive then. */
  lastOkAt: number;
  /** Estimated exit of the last request other dispatchers booked here: not idle before then. */
  peerBusyUntil: number;
}

export class GroupTable {
  /** Version of the placement in force. */
  version = 0;
  /** Groups of the placement in force, by model (in placement order). */
  private routes = new Map<string, MeshGroup[]>();
  /** Every group still referenced: the placement in force, and older ones with requests in flight. */
  private readonly groups = new Map<string, MeshGroup>();
  /** Devices known lost, with why; they stay lost across placements until they answer again. */
  private readonly lost = new Map<string, string>();
  /** The groups each device belongs to (of the groups still referenced). */
  private byDevice = new Map<string, MeshGroup[]>();

  /** `onForget`: called for each group dropped from the table. */
  constructor(private readonly onForget: (g: MeshGroup) => void = () => {}) {}

  /** Takes a newer placement in force; returns its groups, or undefined for an old one. */
  use(p: RuntimePlacement, firstStage: (group: string) => string): MeshGroup[] | undefined {
    if (p.version <= this.version) return undefined;
    const routes = new Map<string, MeshGroup[]>();
    const fresh = p.groups.map((g): MeshGroup => {
      const group: MeshGroup = {
        id: g.id,
        version: p.version,
        models: g.models,
        devices: new Set(g.devices.flat()),
        latency: new GroupLatencyModel(g, p.profiles, p.params),
        firstStage: firstStage(g.id),
        shift: 0,
        inflight: 0,
        routed: 0,
        ok: 0,
        errors: 0,
        retryAt: 0,
        backoff: 0,
        lastOkAt: 0,
        peerBusyUntil: 0,
      };
      for (const m of g.models) (routes.get(m) ?? routes.set(m, []).get(m)!).push(group);
      return group;
    });
    this.version = p.version;
    this.routes = routes;
    for (const g of [...this.groups.values()]) if (g.inflight === 0) this.#forget(g);
    for (const g of fresh) this.groups.set(g.id, g);
    this.byDevice = new Map();
    for (const g of this.groups.values())
      for (const d of g.devices) (this.byDevice.get(d) ?? this.byDevice.set(d, []).get(d)!).push(g);
    for (const d of [...this.lost.keys()]) if (!this.byDevice.has(d)) this.lost.delete(d);
    return fresh;
  }

  /** The groups of the placement in force that host `model`. */
  routesFor(model: string): readonly MeshGroup[] | undefined {
    return this.routes.get(model);
  }

  servedModels(): string[] {
    return [...this.routes.keys()];
  }

  get(id: string): MeshGroup | undefined {
    return this.groups.get(id);
  }

  all(): IterableIterator<MeshGroup> {
    return this.groups.values();
  }

  /** Devices of every group still referenced. */
  devices(): IterableIterator<string> {
    return this.byDevice.keys();
  }

  groupsOf(device: string): readonly MeshGroup[] {
    return this.byDevice.get(device) ?? [];
  }

  /** Forgets an old group once its last request is answered. */
  release(g: MeshGroup): void {
    if (g.inflight === 0 && g.version !== this.version) this.#forget(g);
  }

  #forget(g: MeshGroup): void {
    this.groups.delete(g.id);
    for (const d of g.devices) {
      const left = this.byDevice.get(d)?.filter((x) => x !== g);
      if (left?.length) this.byDevice.set(d, left);
      else this.byDevice.delete(d);
    }
    this.onForget(g);
  }

  /** Its devices currently lost. */
  lostDevices(g: MeshGroup): string[] {
    return [...g.devices].filter((d) => this.lost.has(d));
  }

  hasLostDevice(g: MeshGroup): boolean {
    for (const d of g.devices) if (this.lost.has(d)) return true;
    return false;
  }

  /** Whether requests may be routed to it at `now`. */
  routable(g: MeshGroup, now: number): boolean {
    return !this.hasLostDevice(g) && now >= g.retryAt;
  }

  /**
   * Whether it was last announced out of routing (it is back in only once routed to again, or once its
   * device is back).
   */
  isOut(g: MeshGroup): boolean {
    return g.retryAt > 0 || this.hasLostDevice(g);
  }

  /** Marks `device` lost; returns the groups it takes out (empty when no group uses it). */
  deviceLost(device: string, reason: string): readonly MeshGroup[] {
    const hit = this.groupsOf(device);
    if (hit.length) this.lost.set(device, reason);
    return hit;
  }

  /** `device` answers again; returns its groups, or nothing when it was not lost. */
  deviceBack(device: string): readonly MeshGroup[] {
    return this.lost.delete(device) ? this.groupsOf(device) : [];
  }
}
