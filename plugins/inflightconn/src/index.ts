// inFlightConn: at most `amount` TCP connections open at once per client IP; more are closed at once — Traefik's TCP
// InFlightConn. A connection's slot is given back when it closes, however it ends.
import { defineConnectionMiddleware, definePlugin, Type, type Static } from '@wharf/core';

export const schema = Type.Object(
  { amount: Type.Integer({ minimum: 1, description: 'Connections a client IP may have open at once through the routers using this middleware; more are closed. Required.' }) },
  { additionalProperties: false },
);

export type InFlightConnConfig = Static<typeof schema>;

/** Open connections per client IP in this process; an IP's entry goes when its count is back to zero. */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>();

  constructor(readonly amount: number) {}

  acquire(ip: string): boolean {
    const count = this.counts.get(ip) ?? 0;
    if (count >= this.amount) return false;
    this.counts.set(ip, count + 1);
    return true;
  }

  release(ip: string): void {
    const count = this.counts.get(ip) ?? 0;
    if (count <= 1) this.counts.delete(ip);
    else this.counts.set(ip, count - 1);
  }

  open(ip: string): number {
    return this.counts.get(ip) ?? 0;
  }
}

const tcp = defineConnectionMiddleware({
  schema,
  create(options, context) {
    const counter = new ConnectionCounter(options.amount);
    return function inFlightConn(connection, next) {
      const ip = connection.clientIP;
      if (!counter.acquire(ip)) {
        context.log.debug(`closing a connection from '${ip}': ${options.amount} already open`);
        connection.socket.destroy();
        return;
      }
      connection.socket.once('close', () => counter.release(ip));
      next(connection);
    };
  },
});

export default definePlugin({
  name: 'inFlightConn',
  description: 'TCP: limit the connections open at once per client IP; more are closed.',
  schema,
  tcp,
});
