// digestAuth: HTTP Digest authentication (RFC 7616, MD5, qop=auth) against htdigest users — Traefik's DigestAuth.
import { definePlugin, followFile, messageOf, type Next, type PluginContext, type WharfContext } from '@wharf/core';
import { DigestAuthority, digestParams } from './digest.js';
import { schema, type DigestAuthConfig } from './schema.js';
import { digestUsers, readUsersFile, type DigestUsers } from './users.js';

export { schema, type DigestAuthConfig } from './schema.js';
export { DigestAuthority, digestParams, md5 } from './digest.js';

function loadUsers(options: DigestAuthConfig): DigestUsers {
  return digestUsers(options.usersFile ? readUsersFile(options.usersFile) : [], options.users);
}

/** Re-reads usersFile when it changes, until the generation retires; a broken edit keeps the previous users. */
function watchUsersFile(options: DigestAuthConfig, context: PluginContext, replace: (users: DigestUsers) => void): void {
  const path = options.usersFile;
  if (!path) return;
  followFile(path, context.signal, () => {
    try {
      const users = loadUsers(options);
      replace(users);
      context.log.info(`usersFile: reloaded, ${users.size} users`);
    } catch (err) {
      context.log.error(`${messageOf(err)}; keeping the previous users`);
    }
  });
}

export default definePlugin({
  name: 'digestAuth',
  description: 'Require HTTP Digest authentication (MD5, qop=auth) against htdigest users.',
  schema,
  validate(options) {
    if (options.users.length > 0) digestUsers([], options.users);
    else if (!options.usersFile) throw new Error('users: no users; set users or usersFile');
  },
  create(options, context) {
    let users = loadUsers(options);
    watchUsersFile(options, context, (next) => (users = next));
    // An empty realm is the default one, as Traefik's `if len(realm) > 0`.
    const authority = new DigestAuthority(options.realm || 'traefik', (user, realm) => users.get(`${user}:${realm}`));
    const headerField = options.headerField?.toLowerCase();

    function refuse(ctx: WharfContext, stale: boolean): void {
      ctx.wharf.rejectedBy = context.name;
      ctx.status = 401;
      ctx.set('WWW-Authenticate', authority.challenge(stale));
      ctx.type = 'text/plain';
      ctx.body = '401 Unauthorized\n';
    }

    return async function digestAuth(ctx: WharfContext, next: Next): Promise<void> {
      const params = digestParams(ctx.req.headers.authorization);
      const named = params?.get('username');
      // The user name reaches the access log (ClientUsername) whether or not it got in, as in Traefik.
      if (named) ctx.state.clientUsername = named;
      if (params === undefined) return refuse(ctx, false);
      const verdict = authority.check(params, { method: ctx.method, url: ctx.req.url ?? '/' });
      if (!('user' in verdict)) return refuse(ctx, 'stale' in verdict);
      if (headerField !== undefined) ctx.req.headers[headerField] = verdict.user;
      if (options.removeHeader) delete ctx.req.headers.authorization;
      await next();
    };
  },
});
