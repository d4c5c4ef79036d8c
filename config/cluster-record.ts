// Where a running `meshserve start` cluster is: `.meshserve/cluster.json` in the directory it was
// started from. `meshserve start` writes it once its servers are up and removes it when it stops;
// every other command looks for it in its working directory and the directories above (the
// nearest wins), like git finds `.git`, when NATS_URL and REDIS_URL are not set. The record names
// the start process; a record whose process is gone (killed, machine rebooted) is stale and is
// reported as such, never taken for an empty cluster.
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';

export const CLUSTER_RECORD_PATH = join('.meshserve', 'cluster.json');

export const ClusterRecord = z.object({
  natsUrl: z.string().min(1),
  redisUrl: z.string().min(1),
  /** The dashboard (and /metrics) of the start process, when it serves one. */
  dashboardUrl: z.string().optional(),
  /** The `meshserve start` process that wrote the record, and its host. */
  pid: z.number().int().positive(),
  host: z.string(),
  startedAt: z.string(),
});
export type ClusterRecord = z.infer<typeof ClusterRecord>;

/** A record found on disk: where, what it says, and whether its start process still runs. */
export interface FoundRecord {
  readonly file: string;
  readonly record: ClusterRecord;
  readonly live: boolean;
}

/** Whether process `pid` runs on this host (signal 0 probes without signalling). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}

/** Whether the record's start process runs (a record from another host is taken as live). */
export function isLive(record: ClusterRecord): boolean {
  return record.host !== hostname() || running(record.pid);
}

/** The nearest `.meshserve/cluster.json` in `from` or a directory above it; undefined when none. */
export function findClusterRecord(from: string = process.cwd()): FoundRecord | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, CLUSTER_RECORD_PATH);
    if (existsSync(file)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new Error(`${file} is not a cluster record: ${(err as Error).message}`);
      }
      const r = ClusterRecord.safeParse(parsed);
      if (!r.success) throw new Error(`${file} is not a cluster record: ${r.error.issues[0]?.message ?? 'bad shape'}`);
      return { file, record: r.data, live: isLive(r.data) };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Writes the record of this process's cluster into `dir`/.meshserve (atomically, owner-only). */
export function writeClusterRecord(
  dir: string,
  urls: Pick<ClusterRecord, 'natsUrl' | 'redisUrl' | 'dashboardUrl'>,
): string {
  const file = join(resolve(dir), CLUSTER_RECORD_PATH);
  mkdirSync(dirname(file), { recursive: true });
  const record: ClusterRecord = {
    ...urls,
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 }); // URLs may carry passwords
  renameSync(tmp, file);
  return file;
}

/** Removes `file` if it is still this process's record (a later start may have replaced it). */
export function removeClusterRecord(file: string): void {
  try {
    const record = ClusterRecord.parse(JSON.parse(readFileSync(file, 'utf8')));
    if (record.pid !== process.pid || record.host !== hostname()) return;
  } catch {
    return;
  }
  rmSync(file, { force: true });
  try {
    rmdirSync(dirname(file)); // .meshserve/, when nothing else is in it
  } catch {
    // not empty, or gone
  }
}

/** The reason a stale record cannot be used, with what to do about it. */
export function staleReason(found: FoundRecord): string {
  const r = found.record;
  return `the cluster recorded in ${found.file} is gone: the \`meshserve start\` that wrote it (pid ${r.pid}, started ${r.startedAt}) no longer runs. Start one again (npm start), delete that file, or set NATS_URL and REDIS_URL`;
}
