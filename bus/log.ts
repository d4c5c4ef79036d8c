// Structured logging with pino. A process makes its logger once (its level from its settings)
// and hands it down: the actor system gives each actor a child carrying its name and ULID id, so
// log lines can be filtered. Nothing here is process-wide state.
import { type Logger, pino } from 'pino';
import { busEnvironment } from './config.js';

export type { Logger };

/**
 * A logger at `level` (default: LOG_LEVEL, else info). JSON lines, one per entry; on a terminal,
 * human-readable lines instead, through pino's own prettifier (pino-pretty, as a pino transport).
 */
export function createLogger(level: string = busEnvironment().logLevel): Logger {
  if (!process.stdout.isTTY) return pino({ level, base: { pid: process.pid } });
  return pino({
    level,
    base: { pid: process.pid },
    transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'hostname' } },
  });
}
