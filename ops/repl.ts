// The operator's REPL: a Node REPL whose scope holds the actor API of a running cluster.
// Runtime-specific helpers (replace, watch, infer) only call actor methods and subjects by
// name, so they work against whatever planner/dispatcher the cluster runs.

import { createInterface } from 'node:readline';
import repl, { type REPLEval, type REPLServer } from 'node:repl';
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import { type ActorSystem, describeError } from '../bus/index.js';
import { attainmentByModel, isDispatcherStats } from '../serving/dispatcher/stats.js';
import { RuntimeKeys } from '../serving/protocol/keys.js';
import { RuntimeSubjects } from '../serving/protocol/subjects.js';
import { inferRaw } from './infer-client.js';

export interface ReplOptions {
  system: ActorSystem;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** History file ('' disables it; the CLI's default comes from config/tools.ts). */
  historyFile: string;
  /** Actor names the helpers call. */
  plannerName?: string;
  dispatcherName?: string;
  prompt?: string;
  /** Treat the streams as a TTY (line editing, history); default: whether output is one. */
  terminal?: boolean;
}

export interface RunningRepl {
  server: REPLServer;
  /** Resolves when the REPL exits (.exit, Ctrl-D, end of input). */
  exited: Promise<void>;
  /** Statements that ended in an error so far (a piped script's exit status). */
  readonly errors: number;
  /** Input is not a terminal: lines are fed one at a time (a script). */
  readonly scripted: boolean;
}

export const REPL_HELP: ReadonlyArray<[string, string]> = [
  ['system', 'the ActorSystem this REPL is connected with'],
  ['await actors()', 'live actors from the registry: [{ name, id, kind, host, pid, state }]'],
  ['actor(name)', 'a handle: await actor("x").call("method", ...args)'],
  ['await call(name, method, ...args)', 'call an actor method and return its result'],
  ['await infer(model, input, { slo, timeoutMs })', 'send a request to <prefix>.infer.<model>; the reply'],
  ['await placement()', 'the current placement (Redis <prefix>:placement:current)'],
  ['await replace()', "ask the planner to re-place now (planner's replace method)"],
  ['watch(ms = 1000)', "print the dispatcher's stats() every ms until a key press or .stop"],
  ['.stop', 'stop watch()'],
  ['.verbose', 'show the last error with its stack, and stacks from now on (again: one line)'],
  ['.exit', 'leave (also Ctrl-D, or the end of piped input)'],
];

/** How the REPL's help ends: what `await` is for. */
const AWAIT_NOTE =
  "The helpers return promises: `await` one to use its value (x = await actors()); a promise left as a\nstatement's result is awaited before it is printed.";

/** Compact rendering of a dispatcher's stats(): totals, then one line per model; anything else inspected. */
function formatStats(stats: unknown): string {
  if (!isDispatcherStats(stats)) return inspect(stats, { depth: 4, breakLength: 120 });
  const attainment = attainmentByModel(stats);
  const t = stats.totals;
  const rows = Object.entries(stats.models).map(
    ([model, m]) =>
      `  ${model} requests=${m.requests} ok=${m.ok} withinSlo=${m.withinSlo} rejected=${m.rejected} errors=${m.errors} p99=${m.latencyMs.p99}ms attainment=${model in attainment ? `${(attainment[model] * 100).toFixed(1)}%` : '-'}`,
  );
  return [
    `placement v${stats.placementVersion} in flight ${stats.inflight} requests=${t.requests} rejected=${t.rejected} errors=${t.errors}`,
    ...rows,
  ].join('\n');
}

/** A handle whose methods are known only by name at run time (typed handles need the actor class). */
function untyped(system: ActorSystem, name: string): { call(method: string, ...args: unknown[]): Promise<unknown> } {
  return system.actor(name) as unknown as { call(method: string, ...args: unknown[]): Promise<unknown> };
}

/** Feeds `input`'s lines to the REPL through `feed`, each once the REPL prompts for it; ends `feed` after the last. */
function feedLines(server: REPLServer, input: NodeJS.ReadableStream, feed: PassThrough): void {
  const lines: string[] = [];
  let ready = true; // repl.start() has shown the first prompt already
  let ended = false;
  const pump = (): void => {
    if (!ready) return;
    const line = lines.shift();
    if (line !== undefined) {
      ready = false;
      feed.write(`${line}\n`);
    } else if (ended) feed.end();
  };
  const prompt = server.displayPrompt.bind(server);
  server.displayPrompt = (preserveCursor?: boolean): void => {
    prompt(preserveCursor);
    ready = true;
    setImmediate(pump); // after the REPL has finished handling the line that led here
  };
  const reader = createInterface({ input, crlfDelay: Infinity, terminal: false });
  reader.on('line', (line) => {
    lines.push(line);
    pump();
  });
  reader.on('close', () => {
    ended = true;
    pump();
  });
  server.once('exit', () => reader.close());
}

/** Starts the REPL; resolves once it is ready (history loaded). */
export async function startRepl(options: ReplOptions): Promise<RunningRepl> {
  const { system } = options;
  const output = options.output ?? process.stdout;
  const print = (text: string): void => void output.write(`${text}\n`);
  const planner = options.plannerName ?? 'planner';
  const dispatcher = options.dispatcherName ?? 'dispatcher';
  let stopWatch: (() => void) | undefined;

  // Node's REPL evaluates each line as it arrives, even while an earlier top-level await is
  // pending: a script piped to stdin would run out of order, and its last awaits would outlive
  // the connection (closed on .exit / end of input). So input that is not a terminal is fed to
  // the REPL one line at a time, the next one once the REPL shows its prompt again (after a
  // result, an error, a command, or "..." inside a multi-line statement).
  const input = options.input ?? process.stdin;
  const scripted = !(options.terminal ?? (input as NodeJS.ReadStream).isTTY ?? false);
  const feed = scripted ? new PassThrough() : undefined;
  const server: REPLServer = repl.start({
    prompt: options.prompt ?? 'meshserve> ',
    input: feed ?? input,
    output,
    useGlobal: false,
    terminal: options.terminal,
    ignoreUndefined: true,
  });
  // Listen for the exit at once: piped input may be over before the history is loaded.
  const exited = new Promise<void>((resolve) =>
    server.once('exit', () => {
      stopWatch?.();
      resolve();
    }),
  );
  if (feed) feedLines(server, input, feed);
  const errors = oneLineErrors(server, output);

  const subjects = new RuntimeSubjects(system.subjects);
  const keys = new RuntimeKeys(system.subjects.prefix);
  const scope = {
    system,
    actors: async () =>
      (await system.list()).map(({ name, id, kind, host, pid, state }) => ({ name, id, kind, host, pid, state })),
    actor: (name: string) => system.actor(name),
    call: (name: string, method: string, ...args: unknown[]) => untyped(system, name).call(method, ...args),
    infer: (model: string, input: unknown, opts: { slo?: number; timeoutMs?: number } = {}) =>
      inferRaw(system.nats, subjects, model, { input, slo: opts.slo }, { timeoutMs: opts.timeoutMs ?? 10_000 }),
    placement: async () => {
      if (!system.redis) throw new Error('no Redis connection (registry off)');
      const raw = await system.redis.get(keys.currentPlacement());
      if (raw === null) return undefined;
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    },
    replace: () => untyped(system, planner).call('replace'),
    watch: (ms = 1000) => {
      stopWatch?.();
      const tick = (): void => {
        untyped(system, dispatcher)
          .call('stats')
          .then((stats) => print(`[${new Date().toISOString()}] ${formatStats(stats)}`))
          .catch((err: unknown) =>
            print(`[${new Date().toISOString()}] no dispatcher stats: ${describeError(err).message}`),
          );
      };
      const timer = setInterval(tick, ms);
      tick();
      const onKey = (): void => {
        stopWatch?.();
        // On a terminal the key also went into the line being typed: take it out again (Ctrl-E, Ctrl-U).
        if (!scripted)
          setImmediate(() => {
            server.write(null, { ctrl: true, name: 'e' });
            server.write(null, { ctrl: true, name: 'u' });
          });
      };
      stopWatch = () => {
        clearInterval(timer);
        input.off('data', onKey);
        stopWatch = undefined;
        print('watch stopped');
      };
      // Any key (a TTY sends each key as data) or line ends the watch.
      input.once('data', onKey);
      print(`watching ${dispatcher}.stats() every ${ms} ms; press a key or type .stop`);
    },
  };
  Object.assign(server.context, scope);

  server.defineCommand('help', {
    help: 'List the meshserve helpers and REPL commands',
    action() {
      const width = Math.max(...REPL_HELP.map(([name]) => name.length));
      print(REPL_HELP.map(([name, text]) => `${name.padEnd(width)}  ${text}`).join('\n'));
      print(AWAIT_NOTE);
      this.displayPrompt();
    },
  });
  server.defineCommand('stop', {
    help: 'Stop watch()',
    action() {
      stopWatch?.();
      this.displayPrompt();
    },
  });

  const historyFile = options.historyFile;
  if (historyFile) {
    await new Promise<void>((resolve) =>
      server.setupHistory(historyFile, (err) => {
        if (err) print(`(history disabled: ${err.message})`);
        resolve();
      }),
    );
  }
  return {
    server,
    exited,
    scripted,
    get errors() {
      return errors.count;
    },
  };
}

/**
 * Wraps the REPL's evaluation: a promise a statement leaves is awaited before it is printed (so
 * `actors()` shows the actors, not `Promise { <pending> }`), and an error prints as one line
 * (`Uncaught <name>: <message>`) unless `.verbose` asked for stacks. Counts the errors.
 */
function oneLineErrors(server: REPLServer, output: NodeJS.WritableStream): { count: number } {
  const state = { count: 0, verbose: false, last: undefined as unknown };
  const evaluate = server.eval;
  const report = (err: unknown, done: (err: Error | null, result?: unknown) => void): void => {
    state.count++;
    state.last = err;
    if (state.verbose) {
      done(err as Error, undefined);
      return;
    }
    const { name, message } = describeError(err);
    output.write(`Uncaught ${name}: ${message.split('\n')[0]}\n`);
    done(null, undefined);
  };
  // REPLServer.eval is typed read-only; the REPL calls `this.eval` for every statement.
  (server as { eval: REPLEval }).eval = function (this: REPLServer, code, context, file, done) {
    evaluate.call(this, code, context, file, (err, result) => {
      if (err && err instanceof repl.Recoverable) return done(err, undefined); // an unfinished statement: "..."
      if (err) return report(err, done);
      if (result instanceof Promise)
        result.then(
          (value) => done(null, value),
          (e: unknown) => report(e, done),
        );
      else done(null, result);
    });
  };
  server.defineCommand('verbose', {
    help: 'Show the last error with its stack; from now on errors with stacks (again: one line)',
    action() {
      state.verbose = !state.verbose;
      if (state.verbose && state.last !== undefined)
        output.write(
          `${state.last instanceof Error ? (state.last.stack ?? String(state.last)) : inspect(state.last)}\n`,
        );
      output.write(`errors: ${state.verbose ? 'with stacks' : 'one line each'}\n`);
      this.displayPrompt();
    },
  });
  return state;
}
