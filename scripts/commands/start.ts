import type { Command } from 'commander';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start a local cluster on an embedded default (nats-server and redis-server as child processes unless NATS_URL/REDIS_URL are set)')
    .action(async () => {
      throw new Error('not implemented yet');
    });
}
