// Structured logging with pino. One root logger per process (level from LOG_LEVEL, default
// `info`), one child per actor carrying its name and ULID id so log lines can be filtered.
import { pino, type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;

/** The process-wide logger; created on first use so LOG_LEVEL can be set before that. */
export function rootLogger(): Logger {
  root ??= pino({ level: process.env.LOG_LEVEL ?? 'info', base: { pid: process.pid } });
  return root;
}

export function actorLogger(name: string, id: string): Logger {
  return rootLogger().child({ actor: name, actorId: id });
}
