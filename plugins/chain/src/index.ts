// chain: a named, reusable group of other middlewares, run in order as if the router listed them (Traefik's chain).
import compose from 'koa-compose';
import { definePlugin, messageOf, StringList, Type, type Middleware, type Next, type PluginContext, type Static, type WharfContext } from '@wharf/core';

export const schema = Type.Object(
  {
    middlewares: StringList({
      description: 'Middlewares to run, in order: `name` (in the chain\'s own provider) or `name@provider` (`auth@file` from a Docker label). Required; chains may contain chains, a cycle is an error.',
    }),
  },
  { additionalProperties: false },
);

export type ChainConfig = Static<typeof schema>;

/** An empty name (a stray comma in a label) would only fail later as "middleware '@docker' does not exist". */
function checkNames(middlewares: readonly string[]): void {
  middlewares.forEach((name, i) => {
    if (name.trim() === '' || name.startsWith('@')) throw new Error(`middlewares[${i}]: a middleware name is required, got ${JSON.stringify(name)}`);
  });
}

/** The referenced middleware, or an error naming the list entry and why (missing, disabled, a cycle and its path). */
function member(context: PluginContext, reference: string, index: number): Middleware {
  try {
    return context.middleware(reference.trim());
  } catch (err) {
    throw new Error(`middlewares[${index}]: ${messageOf(err)}`, { cause: err });
  }
}

function passThrough(_ctx: WharfContext, next: Next): Promise<void> {
  return next();
}

export default definePlugin({
  name: 'chain',
  description: 'Run a named, reusable group of middlewares in order.',
  schema,
  validate({ middlewares }) {
    checkNames(middlewares);
  },
  create({ middlewares }, context) {
    checkNames(middlewares);
    const members = middlewares.map((reference, i) => member(context, reference, i));
    if (members.length === 0) return passThrough;
    if (members.length === 1) return members[0]!;
    // Composed once here: each request runs the members' functions and nothing else.
    const composed = compose(members) as unknown as Middleware;
    return function chain(ctx: WharfContext, next: Next): Promise<void> {
      return composed(ctx, next);
    };
  },
});
