// Child process of the dispatcher bench: a plain NATS echo responder (the raw baseline).
import { connectNats } from '../bus/index.js';

const nc = await connectNats({ url: process.env.NATS_URL, name: 'bench-echo' });
nc.subscribe(process.env.ECHO_SUBJECT ?? 'bench.echo', {
  callback: (err, msg) => {
    if (!err) msg.respond(msg.data);
  },
});
await nc.flush();
process.send?.({ type: 'ready' });
process.on('disconnect', () => void nc.close().then(() => process.exit(0)));
