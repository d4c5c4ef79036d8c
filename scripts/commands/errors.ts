// How every command reports a failure: one line, `meshserve <command>: <reason>`, on stderr.
import { describeError } from '../../bus/index.js';

/** The error line of `command` failing with `err`. */
export function errorLine(command: string, err: unknown): string {
  const reason = typeof err === 'string' ? err : describeError(err).message;
  return `meshserve ${command}: ${reason}`;
}

/** Prints the error line and sets the exit code (1 = failure, 2 = usage). */
export function fail(command: string, err: unknown, exitCode: 1 | 2 = 1): void {
  console.error(errorLine(command, err));
  process.exitCode = exitCode;
}
