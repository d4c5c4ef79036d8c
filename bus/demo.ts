// A tiny demo of the bus for `meshserve start`: spawns a greeter actor, calls it, and reads
// back what the registry and $SRV discovery say about it.
import type { ActorContext } from './types.js';
import type { InfoResponse } from './discovery.js';
import type { RegistryEntry } from './schemas.js';
import type { ActorSystem } from './system.js';

export class Greeter {
  private greeted = 0;
  private id = '';

  onStart(ctx: ActorContext): void {
    this.id = ctx.id;
  }

  greet(who: string): { greeting: string; count: number; by: string } {
    this.greeted++;
    return { greeting: `hello, ${who}`, count: this.greeted, by: this.id };
  }
}

export interface DemoResult {
  reply: Awaited<ReturnType<Greeter['greet']>>;
  entry: RegistryEntry | undefined;
  discovery: InfoResponse[];
}

export async function runBusDemo(system: ActorSystem, name = 'greeter'): Promise<DemoResult> {
  await system.spawn(name, new Greeter());
  const reply = await system.actor<Greeter>(name).call('greet', 'meshserve');
  const [entry] = system.registry ? await system.list({ name }) : [];
  const discovery: InfoResponse[] = [];
  const replies = await system.nats.requestMany(`$SRV.INFO.${name}`, '', { maxWait: 250, strategy: 'timer' });
  for await (const msg of replies) discovery.push(msg.json<InfoResponse>());
  return { reply, entry, discovery };
}
