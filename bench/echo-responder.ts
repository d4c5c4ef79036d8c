// Child process of the dispatcher bench: a plain NATS echo responder on `bench.echo` (the raw
// baseline). Its one argument is the NATS URL.
import { connectNats } from '../bus/index.js';

const nc = await connectNats({ url: process.argv[2], name: 'bench-echo' });
nc.subscribe('bench.echo', {
  callback: (err, msg) => {
    if (!err) msg.respond(msg.data);
  },
});
await nc.flush();
process.send?.({ type: 'ready' });
process.on('disconnect', () => void nc.close().then(() => process.exit(0)));
