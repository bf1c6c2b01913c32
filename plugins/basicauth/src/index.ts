// basicAuth: HTTP Basic authentication (RFC 7617) against htpasswd users — Traefik's BasicAuth middleware.
import { definePlugin, followFile, messageOf, type Next, type PluginContext, type WharfContext } from '@wharf/core';
import { VerifiedCache } from './cache.js';
import { schema, type BasicAuthConfig } from './schema.js';
import { readUsersFile, splitBasic, unusableUsers, userTable, type UserTable } from './users.js';
import { verifier } from './verify.js';

export { schema, type BasicAuthConfig } from './schema.js';
export { md5Crypt, checkSecret, sameText } from './hash.js';
export { VerifiedCache } from './cache.js';

/** The credentials of an `Authorization: Basic …` header as Go's Request.BasicAuth reads them, or undefined. */
export function parseBasic(header: string | undefined): { user: string; password: Buffer } | undefined {
  if (header === undefined || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const encoded = header.slice(6);
  // Strict base64 with padding, as Go's StdEncoding; Node's decoder would accept anything.
  if (encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64');
  const colon = decoded.indexOf(0x3a);
  if (colon === -1) return undefined;
  return { user: decoded.subarray(0, colon).toString('utf8'), password: decoded.subarray(colon + 1) };
}

/** Loads the users (file, then inline) and warns about users that can never log in, by name only. */
function loadUsers(options: BasicAuthConfig, context: PluginContext): UserTable {
  const table = userTable(options.usersFile ? readUsersFile(options.usersFile) : [], options.users, splitBasic, "'name:hash'");
  const unusable = unusableUsers(table);
  if (unusable.length > 0) {
    context.log.warn(`users ${unusable.join(', ')}: the password is not a bcrypt, MD5 ($apr1$/$1$) or {SHA} hash, so they can never log in (plain text is not accepted, as in Traefik)`);
  }
  return table;
}

/** Holds the users of one generation: re-reads usersFile when it changes, until the generation retires. */
class Users {
  private version = 0;
  readonly cache = new VerifiedCache();

  constructor(
    public table: UserTable,
    private readonly options: BasicAuthConfig,
    private readonly context: PluginContext,
  ) {
    if (options.usersFile) followFile(options.usersFile, context.signal, () => this.reload());
  }

  /** Changes that make a cached success stale bump it; a verification caches only under the version it started with. */
  get generation(): number {
    return this.version;
  }

  private reload(): void {
    try {
      this.table = loadUsers(this.options, this.context);
    } catch (err) {
      // A broken edit keeps the users that worked; the next change is read again.
      this.context.log.error(`${messageOf(err)}; keeping the previous users`);
      return;
    }
    this.version++;
    this.cache.clear();
    this.context.log.info(`usersFile: reloaded, ${this.table.secrets.size} users`);
  }
}

export default definePlugin({
  name: 'basicAuth',
  description: 'Require HTTP Basic authentication against htpasswd users (bcrypt, Apache MD5, SHA1).',
  schema,
  validate(options) {
    // Inline users are checked here; usersFile is read by create, at the same configuration time.
    if (options.users.length > 0) userTable([], options.users, splitBasic, "'name:hash'");
    else if (!options.usersFile) throw new Error('users: no users; set users or usersFile');
  },
  create(options, context) {
    const users = new Users(loadUsers(options, context), options, context);
    const verify = verifier(users);
    // An empty realm is the default one, as Traefik's `if len(realm) > 0`.
    const realm = options.realm || 'traefik';
    const challenge = `Basic realm="${realm.replace(/["\\]/g, '\\$&')}"`;
    const headerField = options.headerField?.toLowerCase();
    return async function basicAuth(ctx: WharfContext, next: Next): Promise<void> {
      const header = ctx.req.headers.authorization;
      const credentials = parseBasic(header);
      // The user name reaches the access log (ClientUsername) whether or not it got in, as in Traefik.
      if (credentials) ctx.state.clientUsername = credentials.user;
      if (!credentials || !(await verify(header!, credentials.user, credentials.password))) {
        ctx.wharf.rejectedBy = context.name;
        ctx.status = 401;
        ctx.set('WWW-Authenticate', challenge);
        ctx.type = 'text/plain';
        ctx.body = '401 Unauthorized\n';
        return;
      }
      if (headerField !== undefined) ctx.req.headers[headerField] = credentials.user;
      if (options.removeHeader) delete ctx.req.headers.authorization;
      await next();
    };
  },
});
