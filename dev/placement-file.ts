// Placement files: a placement in the runtime's own format (RuntimePlacement, what the planner
// stores in Redis and publishes), written by `meshserve place` and `meshserve plan` and read as
// they are by `meshserve replay --placement` and `meshserve planner --placement`. A file's groups
// are bound to the device ids a local cluster gives its workers (gpu-0, gpu-1, …); a planner that
// takes it binds the same groups, in the same order, to the devices it finds live.
import { readFileSync, writeFileSync } from 'node:fs';
import type { ActorSystem } from '../bus/index.js';
import type { PlannerConfigInput } from '../config/planner.js';
import { REFERENCE_OVERHEAD, REFERENCE_STAGE_PENALTY } from '../planner/latency-model.js';
import { formatIssues } from '../planner/profile.js';
import type { ModelProfile, Placement, SimOptions } from '../planner/types.js';
import { bindPlacement } from '../serving/planner-actor/bind.js';
import { liveDevices, storeProfiles } from '../serving/planner-actor/cluster-state.js';
import type { PlannerActor } from '../serving/planner-actor/planner-actor.js';
import { RuntimeKeys } from '../serving/protocol/keys.js';
import { checkPlacement, RuntimePlacement } from '../serving/protocol/placement.js';
import { localWorkerName } from './local-cluster.js';

export interface PlacementFileOptions {
  /** The algorithm that made it (the runtime placement's `strategy`). */
  readonly strategy: string;
  /** Why it was made (e.g. `meshserve place scenario.json`). */
  readonly reason: string;
  readonly profiles: readonly ModelProfile[];
  /** The simulator options it was scored with: their stage penalty and overhead travel with it. */
  readonly sim?: SimOptions;
}

/** A placement in the runtime's format, version 1, on the devices of a local cluster. */
export function runtimePlacementOf(placement: Placement, o: PlacementFileOptions): RuntimePlacement {
  const devices = placement.groups.reduce((n, g) => n + g.config.pp * g.config.op, 0);
  return bindPlacement(
    placement,
    Array.from({ length: devices }, (_, i) => localWorkerName(i)),
    {
      version: 1,
      strategy: o.strategy,
      reason: o.reason,
      profiles: o.profiles,
      params: {
        stagePenalty: o.sim?.stagePenalty ?? REFERENCE_STAGE_PENALTY,
        overhead: o.sim?.overhead ?? REFERENCE_OVERHEAD,
      },
    },
  );
}

export function writePlacementFile(path: string, placement: Placement, o: PlacementFileOptions): RuntimePlacement {
  const runtime = runtimePlacementOf(placement, o);
  writeFileSync(path, `${JSON.stringify(runtime, null, 2)}\n`);
  return runtime;
}

/** Reads and checks a placement file; errors name the file (and the field). */
export function loadPlacementFile(path: string): RuntimePlacement {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read placement ${path}: ${(e as Error).message}`);
  }
  const r = RuntimePlacement.safeParse(json);
  if (!r.success)
    throw new Error(`placement ${path} is not a runtime placement: ${formatIssues(r.error).replace(/\n\s*/g, '; ')}`);
  try {
    checkPlacement(r.data);
  } catch (e) {
    throw new Error(`placement ${path}: ${(e as Error).message}`);
  }
  return r.data;
}

/** Refuses a strategy that cannot take a placement file's groups (see plannerConfigOf). */
export function checkFileStrategy(strategy = 'static'): void {
  if (strategy !== 'static' && strategy !== 'adaptive')
    throw new Error(
      `a placement file names the groups: with it, the strategy can only be adaptive (which starts from them), not ${strategy}`,
    );
}

/**
 * The planner configuration that places a file's groups as they are: the `static` strategy keeps
 * them, the `adaptive` one starts from them and re-places as traffic moves. No other strategy
 * takes a file's groups.
 */
export function plannerConfigOf(p: RuntimePlacement, strategy = 'static'): PlannerConfigInput {
  checkFileStrategy(strategy);
  return {
    strategy,
    models: p.profiles.map((m) => m.name),
    groups: p.groups.map((g) => ({ config: g.config, models: [...g.models] })),
    stagePenalty: p.params.stagePenalty,
    overhead: p.params.overhead,
  };
}

/**
 * Hands a placement file to a running planner configured with `plannerConfigOf(file)`: stores its
 * profiles where the planner reads them and, when GPU workers are registered, has it place now
 * (otherwise it places as they register: `autoPlace`).
 */
export async function placeFile(system: ActorSystem, planner: string, file: RuntimePlacement): Promise<void> {
  if (!system.redis) throw new Error('a placement file needs Redis to hand its profiles to the planner');
  await storeProfiles(system.redis, file.profiles, system.subjects.prefix);
  const devices = await liveDevices(system, new RuntimeKeys(system.subjects.prefix));
  if (devices.length) system.actor<PlannerActor>(planner).tell('replace', 'placement file');
}
