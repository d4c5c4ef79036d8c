// Option parsers and the failure wrapper shared by the subcommands.
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type AdaptivePolicy,
  DEFAULT_DEPARTURE_LOADS,
  DEFAULT_LOAD_BANDWIDTH,
  livePlacementAlgorithmNames,
  PLACEMENT_ALGORITHMS,
} from '../../planner/placement/index.js';
import { didYouMean } from '../../planner/suggest.js';
import { fail } from './errors.js';

/** A commander option parser: the number, or an InvalidArgumentError with `message`. */
function numberOption(ok: (n: number) => boolean, message: string): (value: string) => number {
  return (value) => {
    // Decimal notation only: Number() also reads '' as 0 and '0x10' as 16.
    const n = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(value) ? Number(value) : Number.NaN;
    if (!ok(n)) throw new InvalidArgumentError(message);
    return n;
  };
}

export const positiveNumber = numberOption((n) => Number.isFinite(n) && n > 0, 'must be a positive number');
export const nonNegativeNumber = numberOption((n) => Number.isFinite(n) && n >= 0, 'must be a number ≥ 0');
export const positiveInt = numberOption((n) => Number.isInteger(n) && n > 0, 'must be a positive integer');
export const atLeastOne = numberOption((n) => Number.isFinite(n) && n >= 1, 'must be a number ≥ 1');
/** `--departure-loads`, as every command that takes it declares it. */
export const departureLoadsOption = () =>
  new Option(
    '--departure-loads <n>',
    `adaptive: weight loads charged to a switch away from its starting placement (default ${DEFAULT_DEPARTURE_LOADS}; 1 = the load out only, 2 = the load back too)`,
  ).argParser(atLeastOne);
export const nonNegativeInt = numberOption((n) => Number.isInteger(n) && n >= 0, 'must be an integer ≥ 0');

export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A comma-separated list of numbers; else a usage error. */
export function numberList(value: string): number[] {
  const numbers = commaList(value).map(Number);
  if (!numbers.length || !numbers.every(Number.isFinite))
    throw new InvalidArgumentError('expected numbers separated by commas');
  return numbers;
}

/**
 * A shape written `[<name>=]<dims>`, as in `x=1,3,48,320` or `1,16,32`: its dimensions (each ≥ 1)
 * and its name when one is given; else a usage error saying what was expected (`expected`).
 */
export function namedShape(value: string, expected: string): { name?: string; shape: number[] } {
  const m = /^(?:([^=,\s]+)=)?(\d+(?:,\d+)*)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not ${expected}`);
  const shape = m[2].split(',').map(Number);
  if (shape.some((d) => d < 1)) throw new InvalidArgumentError(`"${value}": every dimension must be ≥ 1`);
  return { ...(m[1] === undefined ? {} : { name: m[1] }), shape };
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

/** Every algorithm name and alias of the registry (oracles included: they place a scenario too). */
export function algorithmNames(): string[] {
  return PLACEMENT_ALGORITHMS.flatMap((a) => [a.name, ...(a.aliases ?? [])]);
}

/** An --algorithm value: a placement algorithm's name or alias, else a usage error (exit 2). */
export function algorithmName(value: string): string {
  const known = algorithmNames();
  if (!known.includes(value))
    throw new InvalidArgumentError(
      `unknown algorithm "${value}"${didYouMean(value, known)} (known: ${known.join(', ')})`,
    );
  return value;
}

/** The live adaptive policy's options, as `planner` and `start` take them. */
export interface AdaptivePolicyFlags {
  departureLoads?: number;
  loadBandwidth?: number;
}

export function addAdaptivePolicyOptions(command: Command): Command {
  return command
    .addOption(departureLoadsOption())
    .option(
      '--load-bandwidth <bytes/s>',
      `adaptive: bytes/s at which a group loads new weights, for its swap costs (default ${DEFAULT_LOAD_BANDWIDTH / 1e9}e9, PCIe-like)`,
      positiveNumber,
    );
}

/** The flags as the planner's `adaptive` configuration; an error with a strategy that would ignore them. */
export function adaptivePolicyOf(o: AdaptivePolicyFlags, strategy: string): AdaptivePolicy | undefined {
  const policy = {
    ...(o.departureLoads !== undefined ? { departureLoads: o.departureLoads } : {}),
    ...(o.loadBandwidth !== undefined ? { loadBandwidth: o.loadBandwidth } : {}),
  };
  if (!Object.keys(policy).length) return undefined;
  if (strategy !== 'adaptive')
    throw new Error(`--departure-loads and --load-bandwidth apply to --strategy adaptive, not to ${strategy}`);
  return policy;
}
