// The stage shards a device runs under a placement, with each model's stage time.
import { profileMap } from '../../planner/profile.js';
import { assignmentKey, type StageAssignment } from '../executors/stage-executor.js';
import { groupStageSeconds, type RuntimePlacement } from '../protocol/placement.js';

/** The stage shards `device` runs under a placement. */
export function assignmentsFor(placement: RuntimePlacement, device: string): StageAssignment[] {
  const out: StageAssignment[] = [];
  for (const group of placement.groups) {
    group.devices.forEach((shards, stage) => {
      shards.forEach((d, shard) => {
        if (d !== device) return;
        const seconds = groupStageSeconds(placement, group);
        const profiles = profileMap(placement.profiles);
        out.push({
          key: assignmentKey(group.id, stage, shard),
          version: placement.version,
          group: group.id,
          stage,
          shard,
          pp: group.config.pp,
          op: group.config.op,
          models: group.models.map((name) => {
            const p = profiles.get(name);
            return {
              name,
              seconds: seconds.get(name)![stage],
              ...(p?.onnx ? { onnx: p.onnx } : {}),
              ...(p?.imported ? { imported: p.imported } : {}),
            };
          }),
        });
      });
    });
  }
  return out;
}
