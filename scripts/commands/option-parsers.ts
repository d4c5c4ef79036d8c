// Option parsers and the failure wrapper shared by the subcommands.
import { InvalidArgumentError } from 'commander';

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

/** Runs an async action, printing `<what> failed: <message>` and setting exit code 1 on error. */
export async function runOrFail(what: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    console.error(`${what} failed: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
