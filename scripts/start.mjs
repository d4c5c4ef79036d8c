// `npm start [-- options]`: checks that nats-server and redis-server are there
// (scripts/ensure-servers.sh start), builds, then runs `meshserve start` in this process.
// `npm start -- --help` neither checks nor builds once dist/ exists.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const cli = fileURLToPath(new URL('../dist/scripts/meshserve.js', import.meta.url));
const help = args.includes('--help') || args.includes('-h');

function step(command, argv) {
  const r = spawnSync(command, argv, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!help) step('bash', [fileURLToPath(new URL('./ensure-servers.sh', import.meta.url)), 'start']);
if (!(help && existsSync(cli))) step('npm', ['run', '--silent', 'build']);
process.argv = [process.argv[0], cli, 'start', ...args];
await import(cli);
