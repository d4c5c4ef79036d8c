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

/**
 * Progress lines of a long computation on stderr: `update(line)` rewrites the line in place on a
 * terminal, else prints one every 2 s; `note(line)` always prints a line of its own.
 */
export function lineProgress(): { update: (line: string) => void; note: (line: string) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let open = false;
  return {
    update(line) {
      if (tty) {
        process.stderr.write(`\r${line}\x1b[K`);
        open = true;
      } else if (Date.now() - last >= 2_000) {
        last = Date.now();
        process.stderr.write(`${line}\n`);
      }
    },
    note(line) {
      process.stderr.write(`${tty && open ? '\r\x1b[K' : ''}${line}\n`);
      open = false;
    },
    done() {
      if (tty && open) process.stderr.write('\r\x1b[K');
      open = false;
    },
  };
}
