// What `meshserve profile` does: connect (NATS always, Redis unless told not to, both checked
// before anything is measured), profile a generated model over NATS, then store the profile
// where the planner reads it (`ms:profile:<model>`) and as a ModelProfile JSON file.
import type { Redis } from 'ioredis';
import { connectNats, connectRedis, type Logger } from '../../bus/index.js';
import type { TransformerSpec } from '../../modelgen/transformer.js';
import { configKey } from '../../planner/types.js';
import { storeProfiles } from '../../serving/planner-actor/cluster-state.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { saveProfilesFile } from '../planner-files.js';
import { type MeasuredProfile, type NatsProfileOptions, profileOverNats } from './nats-profile.js';

export interface ProfileRunOptions extends Omit<NatsProfileOptions, 'connect'> {
  /** JSON file to write ({ profiles: [profile] }, what loadProfilesFile reads). */
  out: string;
  /** Write `ms:profile:<model>` to Redis (default true). */
  redis?: boolean;
  natsUrl: string;
  redisUrl: string;
  log: Logger;
  prefix?: string;
}

export interface ProfileRunResult extends MeasuredProfile {
  /** The Redis key written, if any. */
  redisKey?: string;
}

export async function profileAndStore(spec: TransformerSpec, o: ProfileRunOptions): Promise<ProfileRunResult> {
  const connect = () => connectNats({ url: o.natsUrl, name: 'meshserve-profile' });
  // Fail before minutes of measuring when a server is not there.
  await (await connect()).close();
  let redis: Redis | undefined;
  if (o.redis !== false) {
    redis = await connectRedis({ url: o.redisUrl, name: 'meshserve-profile', log: o.log }).catch((err: Error) =>
      Promise.reject(new Error(`${err.message}; use --no-redis to write the JSON file only`)),
    );
  }
  try {
    const measured = await profileOverNats(spec, { ...o, connect });
    saveProfilesFile(o.out, [measured.profile]);
    if (!redis) return measured;
    await storeProfiles(redis, [measured.profile], o.prefix);
    return { ...measured, redisKey: new RuntimeKeys(o.prefix).profile(measured.profile.name) };
  } finally {
    redis?.disconnect();
  }
}

/** The measured stages as a Markdown table (what the command prints). */
export function formatProfileTable(m: MeasuredProfile): string {
  const f = (x: number) => x.toFixed(2);
  const lines = [
    '| config | stage | units | compute ms | partial sum ms | NATS all-gathers | all-gather ms | NATS hop ms | stage latency ms |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { config, stages } of m.configs) {
    stages.forEach((s, k) => {
      const units = s.units.length > 3 ? `${s.units[0]} … ${s.units.at(-1)} (${s.units.length})` : s.units.join(' ');
      lines.push(
        `| ${configKey(config)} | ${k} | ${units} | ${f(s.computeMs)} | ${f(s.sumMs)} | ${s.exchanges} | ${f(s.exchangeMs)} | ${f(s.hopMs)} | **${f(s.totalMs)}** |`,
      );
    });
  }
  return lines.join('\n');
}
