// An actor's mailbox: a FIFO of accepted messages processed by at most `concurrency` workers.
// With the default concurrency of 1 the actor sees one message at a time, in arrival order.

export type MailboxHandler<T> = (item: T) => Promise<void> | void;

export class Mailbox<T> {
  private queue: T[] = [];
  private head = 0;
  private running = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly handler: MailboxHandler<T>,
    readonly concurrency: number = 1,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`mailbox concurrency must be an integer >= 1, got ${concurrency}`);
    }
  }

  /** Messages accepted but not yet started. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Messages being handled right now. */
  get active(): number {
    return this.running;
  }

  push(item: T): void {
    if (this.running < this.concurrency && this.pending === 0) {
      // Fast path: an idle mailbox starts the message at once, no queueing.
      void this.run(item);
      return;
    }
    this.queue.push(item);
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.running === 0 && this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(item: T): Promise<void> {
    this.running++;
    let next: T | undefined = item;
    while (next !== undefined) {
      try {
        // Only await real async work: a handler that finished synchronously goes straight on to
        // the next message in the same tick, so replies to a burst leave in one socket write.
        const pending = this.handler(next);
        if (pending) await pending;
      } catch {
        // The handler owns error reporting (it replies with the error); a throw here must
        // not stop the mailbox.
      }
      next = this.take();
    }
    this.running--;
    if (this.running === 0 && this.pending === 0) this.notifyIdle();
  }

  private take(): T | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head];
    this.queue[this.head] = undefined as T;
    this.head++;
    // Compact now and then so a long-lived busy mailbox does not grow without bound.
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
