// Structured logging with pino. A process makes its logger once (its level from its settings)
// and hands it down: the actor system gives each actor a child carrying its name and ULID id, so
// log lines can be filtered. Nothing here is process-wide state.
import { type Logger, pino } from 'pino';
import { busEnvironment } from './config.js';

export type { Logger };

/** A logger at `level` (default: LOG_LEVEL, else info). */
export function createLogger(level: string = busEnvironment().logLevel): Logger {
  return pino({ level, base: { pid: process.pid } });
}
