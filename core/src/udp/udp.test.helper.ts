// Real UDP peers for the UDP tests: an echo server that records who sent what, and a client that waits for replies.
import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { once } from 'node:events';
import { eventually } from '@wharf/test-helpers';

export interface UDPEcho {
  port: number;
  /** Source ports the server saw, one per datagram: one upstream socket per session means one port per session. */
  senders: number[];
  close(): Promise<void>;
}

/** Answers each datagram with `<id>:<datagram>` to its sender. */
export async function startUDPEcho(id: string, host = '127.0.0.1'): Promise<UDPEcho> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const senders: number[] = [];
  socket.on('message', (message, from) => {
    senders.push(from.port);
    socket.send(`${id}:${message.toString()}`, from.port, from.address);
  });
  socket.bind(0, host);
  await once(socket, 'listening');
  return { port: socket.address().port, senders, close: () => closeSocket(socket) };
}

export class UDPClient {
  private readonly replies: string[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('message', (message) => this.replies.push(message.toString()));
  }

  static async open(type: SocketType = 'udp4'): Promise<UDPClient> {
    const socket = createSocket(type);
    socket.bind(0, type === 'udp6' ? '::1' : '127.0.0.1');
    await once(socket, 'listening');
    return new UDPClient(socket);
  }

  /** Sends `text` and waits for the reply that echoes it (loopback does not drop, so once is enough). */
  async ask(port: number, text: string, host = '127.0.0.1'): Promise<string> {
    this.socket.send(text, port, host);
    const index = await eventually(() => this.replies.findIndex((r) => r.endsWith(`:${text}`)) + 1, `a reply to ${text}`);
    return this.replies.splice(index - 1, 1)[0]!;
  }

  /** Sends without waiting for a reply. */
  send(port: number, text: string, host = '127.0.0.1'): void {
    this.socket.send(text, port, host);
  }

  /** Every reply received so far that was not asked for. */
  get unexpected(): readonly string[] {
    return this.replies;
  }

  close(): Promise<void> {
    return closeSocket(this.socket);
  }
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
