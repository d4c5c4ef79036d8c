// `meshserve infer <model> [input-json]`: one request on ms.infer.<model>, printed as the reply
// (JSON); with --count, a small open-loop load and a one-line summary.
import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Command, InvalidArgumentError } from 'commander';
import { connectNats, Subjects } from '../../bus/index.js';
import { describeCluster, setUpProcess } from '../../config/environment.js';
import { TOOL_LOG_LEVEL } from '../../config/tools.js';
import { clientTimeoutMs, formatLoadSummary, inferLoad, inferRaw } from '../../ops/infer-client.js';
import { InferReply } from '../../serving/protocol/messages.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { connectTimeoutOption } from './connect-timeout.js';
import { fail } from './errors.js';
import { positiveInt, positiveNumber } from './option-parsers.js';

interface InferCliOptions {
  slo?: number;
  count: number;
  rate: number;
  timeout?: number;
  id?: string;
  connectTimeout: number;
}

/** The request's input: JSON text, or `@file` for a file holding it. */
function parseInput(text: string): unknown {
  let json = text;
  if (text.startsWith('@')) {
    try {
      json = readFileSync(text.slice(1), 'utf8');
    } catch (err) {
      throw new InvalidArgumentError(`cannot read ${text.slice(1)}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(json);
  } catch (err) {
    throw new InvalidArgumentError(`the input is not JSON: ${(err as Error).message}`);
  }
}

export function registerInfer(program: Command): void {
  program
    .command('infer')
    .description(
      'send a request to a served model and print the reply; with --count, a small open-loop load and a one-line summary',
    )
    .argument('<model>', 'model name, e.g. bert-1.3b-0 (`meshserve status` lists the served ones)')
    .argument(
      '[input-json]',
      'the request\'s input as JSON, or @file.json: anything for a simulated model, a tensor {"dtype":"float32","shape":[…],"data":[…] or base64} for an ONNX one',
      parseInput,
    )
    .option('--slo <seconds>', 'latency objective, seconds from arrival (default: none)', positiveNumber)
    .option('--count <n>', 'send n requests (open loop) and print a summary instead of the reply', positiveInt, 1)
    .option('--rate <req/s>', 'request rate with --count', positiveNumber, 10)
    .option('--timeout <ms>', 'give up on a reply after this long (default: SLO + 3 s, else 10 s)', positiveNumber)
    .option('--id <id>', 'request id (with --count, a prefix)')
    .addOption(connectTimeoutOption())
    .addHelpText(
      'after',
      `
The cluster is NATS_URL's, else the running \`meshserve start\` found through .meshserve/cluster.json.
One request prints the reply as JSON and exits 0 when it is ok, 1 when rejected or failed.
With --count it prints "ok / rejected / errors, latency p50 / p99" and exits 1 if any request got no reply.

Examples:
  meshserve infer bert-1.3b-0
  meshserve infer bert-1.3b-0 '{"tokens":[1,2,3]}' --slo 1
  meshserve infer bert-1.3b-0 --count 200 --rate 20 --slo 0.5
  meshserve infer transformer-small '{"dtype":"float32","shape":[1,32,64],"data":[…2048 numbers…]}'`,
    )
    .action(async (model: string, input: unknown, o: InferCliOptions) => {
      let nc: NatsConnection | undefined;
      try {
        const { env } = setUpProcess(TOOL_LOG_LEVEL);
        const natsUrl = env.bus.natsUrl;
        try {
          nc = await connectNats({ url: natsUrl, name: 'meshserve-infer', extra: { timeout: o.connectTimeout } });
        } catch (err) {
          throw new Error(`${(err as Error).message} (the cluster: ${describeCluster(env)})`);
        }
        const subjects = new RuntimeSubjects(new Subjects());
        const body = { ...(o.id ? { id: o.id } : {}), ...(input === undefined ? {} : { input }), slo: o.slo };
        const timeoutMs = o.timeout ?? clientTimeoutMs(o.slo);
        if (o.count === 1) {
          const raw = await inferRaw(nc, subjects, model, body, { encoding: 'json', timeoutMs });
          console.log(JSON.stringify(raw));
          const reply = InferReply.safeParse(raw);
          process.exitCode = reply.success && reply.data.status === 'ok' ? 0 : 1;
          return;
        }
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        const tty = process.stderr.isTTY;
        try {
          const summary = await inferLoad(nc, subjects, model, {
            count: o.count,
            rate: o.rate,
            body,
            timeoutMs,
            signal: abort.signal,
            onProgress: tty ? (done, sent) => process.stderr.write(`\r${done}/${sent} answered\x1b[K`) : undefined,
          });
          if (tty) process.stderr.write('\r\x1b[K');
          console.log(formatLoadSummary(summary));
          process.exitCode = summary.noReply > 0 ? 1 : 0;
        } finally {
          process.off('SIGINT', onSigint);
        }
      } catch (err) {
        fail('infer', err);
      } finally {
        await nc?.close();
      }
    });
}
