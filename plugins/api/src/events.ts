// Server-sent events for `/api/events`: one stream per client, a message per configuration change,
// health transition and traffic sample.
import type { ServerResponse } from 'node:http';
import type { WharfContext } from '@wharf/core';

const MAX_BUFFERED_BYTES = 1 << 20;

export class EventHub {
  private readonly clients = new Set<ServerResponse>();

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response and keeps it open until the client leaves or `closeAll` runs. */
  subscribe(ctx: WharfContext): void {
    const res = ctx.res;
    ctx.respond = false;
    ctx.status = 200; // for the traffic counter and the access log; the head is written below
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    this.clients.add(res);
    const leave = () => this.clients.delete(res);
    res.on('close', leave);
    res.on('error', leave);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    // A retry hint, and a first event so the client knows the subscription is live.
    res.write(`retry: 1000\nevent: hello\ndata: {}\n\n`);
  }

  /** Sends one event to every client; `data` is JSON-encoded on one line. */
  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const message = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.clients) {
      // A client that stopped reading is dropped rather than buffered for without bound; EventSource reconnects.
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
      else if (!res.writableEnded) res.write(message);
    }
  }

  /** Ends every stream (at shutdown, so open dashboards do not hold the drain for graceTimeOut). */
  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
