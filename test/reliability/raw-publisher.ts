// A bare NATS protocol client over TCP, for what nats.js refuses to send: header blocks it cannot
// parse itself (the server passes any bytes through to subscribers).
import { createConnection, type Socket } from 'node:net';

export class RawPublisher {
  private constructor(private readonly socket: Socket) {}

  static async connect(port: number): Promise<RawPublisher> {
    const socket = createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('data', () => undefined); // INFO, PONG: nothing to act on
    socket.write(
      'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1,"name":"raw-fuzz"}\r\n',
    );
    return new RawPublisher(socket);
  }

  /** HPUB with a header block taken as is. */
  publish(subject: string, reply: string, headerBlock: string, payload: Uint8Array): void {
    const header = Buffer.from(headerBlock, 'latin1');
    this.socket.write(`HPUB ${subject} ${reply} ${header.length} ${header.length + payload.length}\r\n`);
    this.socket.write(Buffer.concat([header, payload, Buffer.from('\r\n')]));
  }

  close(): void {
    this.socket.destroy();
  }
}
