// `meshserve infer <model> [input-json]`: one request on ms.infer.<model>, printed as the reply
// (JSON, a large output tensor abridged); with --count, a small open-loop load and a one-line
// summary. Without an input it sends what the model is served at (tensors of 0.5s, from its
// profile in Redis), so the command the start banner suggests works for ONNX models too.
import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Command, InvalidArgumentError } from 'commander';
import { connectNats, connectRedis, type Logger, Subjects } from '../../bus/index.js';
import { describeCluster, type Environment, setUpProcess } from '../../config/environment.js';
import { TOOL_LOG_LEVEL } from '../../config/tools.js';
import {
  abridgeReply,
  clientTimeoutMs,
  filledInput,
  formatLoadSummary,
  inferLoad,
  inferRaw,
  readServedInputs,
  servedInputsNote,
} from '../../ops/infer-client.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { InferReply } from '../../serving/protocol/messages.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { connectTimeoutOption } from './connect-timeout.js';
import { fail } from './errors.js';
import { namedShape, positiveInt, positiveNumber } from './option-parsers.js';

interface TensorArg {
  name?: string;
  shape: number[];
}

interface InferCliOptions {
  slo?: number;
  count: number;
  rate: number;
  timeout?: number;
  id?: string;
  tensor?: TensorArg[];
  raw?: boolean;
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

/** The values `--tensor` may ask for at most: 1 GiB of float32, far above any NATS payload. */
const MAX_TENSOR_VALUES = 2 ** 28;

/** `--tensor 1,3,64,320`, or `--tensor x=1,3,64,320 --tensor mask=1,64` for several inputs. */
function tensorOption(value: string, previous: TensorArg[] = []): TensorArg[] {
  const t = namedShape(value, 'a shape such as 1,3,64,320, or <input>=<shape> such as x=1,3,64,320');
  const values = t.shape.reduce((a, b) => a * b, 1);
  if (values > MAX_TENSOR_VALUES)
    throw new InvalidArgumentError(`"${value}" has ${values} values, more than ${MAX_TENSOR_VALUES}`);
  const all = [...previous, t];
  if (all.length > 1 && all.some((a) => a.name === undefined))
    throw new InvalidArgumentError('with several --tensor, name each input: --tensor x=1,3,64,320 --tensor mask=1,64');
  if (t.name !== undefined && previous.some((a) => a.name === t.name))
    throw new InvalidArgumentError(`--tensor ${t.name} is given twice`);
  return all;
}

/**
 * The inputs the model is served at, from its profile in Redis (undefined for a simulated model).
 * A profile that cannot be read is said on stderr, and the request goes without an input.
 */
async function servedInputsOf(env: Environment, model: string, timeoutMs: number, log: Logger) {
  const redis = await connectRedis({
    url: env.bus.redisUrl,
    name: 'meshserve-infer',
    log,
    connectTimeoutMs: timeoutMs,
  }).catch((err: Error) => err);
  try {
    if (redis instanceof Error) throw redis;
    return await readServedInputs(redis, new RuntimeKeys(), model);
  } catch (err) {
    console.error(`meshserve infer: cannot read the profile of ${model} (${(err as Error).message}); sending no input`);
    return undefined;
  } finally {
    if (!(redis instanceof Error)) redis.disconnect();
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
    .option(
      '--tensor <[input=]shape>',
      'send a float32 tensor of this shape, all 0.5 (its bytes in base64); repeat with input names for several inputs',
      tensorOption,
    )
    .option('--raw', "print the whole reply as received, output tensors' bytes included (base64)")
    .addOption(connectTimeoutOption())
    .addHelpText(
      'after',
      `
The cluster is NATS_URL's, else the running \`meshserve start\` found through .meshserve/cluster.json.
Without an input or --tensor, a model on ONNX workers gets float32 tensors of 0.5s at the shapes
it is served at (read from its profile in Redis, said on stderr); a simulated model gets no input.
One request prints the reply as JSON (an output tensor of more than 16 values as its count and
first values; --raw for all of it) and exits 0 when it is ok, 1 when rejected or failed.
With --count it prints "ok / rejected / errors, latency p50 / p99" and exits 1 if any request got no reply.

Examples:
  meshserve infer bert-1.3b-0
  meshserve infer bert-1.3b-0 '{"tokens":[1,2,3]}' --slo 1
  meshserve infer bert-1.3b-0 --count 200 --rate 20 --slo 0.5
  meshserve infer ocr-det                          # a tensor of 0.5s at the served shape
  meshserve infer transformer-small --tensor 1,32,64 --raw
  meshserve infer my-model --tensor x=1,3,64,320 --tensor mask=1,64
  meshserve infer transformer-small '{"dtype":"float32","shape":[1,32,64],"data":[…2048 numbers…]}'`,
    )
    .action(async (model: string, input: unknown, o: InferCliOptions) => {
      if (input !== undefined && o.tensor) return fail('infer', 'give an input or --tensor, not both', 2);
      let nc: NatsConnection | undefined;
      try {
        const { env, log } = setUpProcess(TOOL_LOG_LEVEL);
        const natsUrl = env.bus.natsUrl;
        try {
          nc = await connectNats({ url: natsUrl, name: 'meshserve-infer', extra: { timeout: o.connectTimeout } });
        } catch (err) {
          throw new Error(`${(err as Error).message} (the cluster: ${describeCluster(env)})`);
        }
        const subjects = new RuntimeSubjects(new Subjects());
        if (o.tensor) input = filledInput(o.tensor);
        else if (input === undefined) {
          const served = await servedInputsOf(env, model, o.connectTimeout, log);
          if (served) {
            input = filledInput(served);
            console.error(servedInputsNote(model, served));
          }
        }
        const body = { ...(o.id ? { id: o.id } : {}), input, slo: o.slo };
        const timeoutMs = o.timeout ?? clientTimeoutMs(o.slo);
        if (o.count === 1) {
          const raw = await inferRaw(nc, subjects, model, body, { encoding: 'json', timeoutMs });
          console.log(JSON.stringify(o.raw ? raw : abridgeReply(raw)));
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
