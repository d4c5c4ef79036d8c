// The --connect-timeout option shared by the operator commands (repl, status).
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../../config/tools.js';

export function connectTimeoutOption(): Option {
  return new Option('--connect-timeout <ms>', 'give up connecting to NATS/Redis after this long')
    .default(DEFAULT_CONNECT_TIMEOUT_MS)
    .argParser((value: string) => {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of milliseconds');
      return n;
    });
}
