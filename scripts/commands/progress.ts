// The live progress line of a replay: rewritten in place on a terminal, a line every 2 s otherwise.
import type { ReplayProgress } from '../../dev/replay-client.js';

export function progressPrinter(): { update: (p: ReplayProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const line = (p: ReplayProgress) =>
    `[${p.elapsed.toFixed(1).padStart(6)} s] sent ${p.sent}/${p.total}  ok ${p.ok}  rejected ${p.rejected}  error ${p.errors}  in flight ${p.inflight}`;
  return {
    update(p) {
      if (tty) process.stderr.write(`\r${line(p)}\x1b[K`);
      else if (Date.now() - lastLine >= 2_000) {
        lastLine = Date.now();
        process.stderr.write(`${line(p)}\n`);
      }
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}
