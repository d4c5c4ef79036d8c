// Option parsers and the failure wrapper shared by the subcommands.
import { InvalidArgumentError } from 'commander';
import { livePlacementAlgorithmNames } from '../../planner/placement/index.js';
import { fail } from './errors.js';
import { didYouMean } from './suggest.js';

/** A commander option parser: the number, or an InvalidArgumentError with `message`. */
function numberOption(ok: (n: number) => boolean, message: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!ok(n)) throw new InvalidArgumentError(message);
    return n;
  };
}

export const positiveNumber = numberOption((n) => Number.isFinite(n) && n > 0, 'must be a positive number');
export const nonNegativeNumber = numberOption((n) => Number.isFinite(n) && n >= 0, 'must be a number ≥ 0');
export const positiveInt = numberOption((n) => Number.isInteger(n) && n > 0, 'must be a positive integer');
export const nonNegativeInt = numberOption((n) => Number.isInteger(n) && n >= 0, 'must be an integer ≥ 0');

export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Runs an async action; on error prints `meshserve <command>: <message>` and sets exit code 1. */
export async function runOrFail(command: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    fail(command, err);
  }
}

/** A --strategy value: a live placement algorithm's name, else a usage error (exit 2) before anything starts. */
export function strategyName(value: string): string {
  const known = livePlacementAlgorithmNames();
  if (!known.includes(value))
    throw new InvalidArgumentError(
      `unknown strategy "${value}"${didYouMean(value, known)} (known: ${known.join(', ')})`,
    );
  return value;
}
