// The per-request verification of basicAuth: remembered successes first, then one check per distinct header in
// flight at a time (concurrent requests with the same header share it, as Traefik's singleflight).
import { headerKey, type VerifiedCache } from './cache.js';
import { checkSecret } from './hash.js';
import type { UserTable } from './users.js';

/** What a verification reads: the users now, their version (bumped when they change) and the remembered successes. */
export interface UserSource {
  readonly table: UserTable;
  readonly generation: number;
  readonly cache: VerifiedCache;
}

export function verifier(users: UserSource) {
  const inFlight = new Map<string, Promise<boolean>>();
  return async function verify(header: string, user: string, password: Buffer): Promise<boolean> {
    const key = headerKey(header);
    if (users.cache.get(key) === user) return true;
    const version = users.generation;
    // Shared only with checks of the same users: one started before a reload answers for the users it read.
    const flight = `${version} ${key}`;
    let pending = inFlight.get(flight);
    if (pending === undefined) {
      const { secrets, decoy } = users.table;
      const secret = secrets.get(user);
      pending = checkSecret(password, secret ?? decoy)
        .then((ok) => {
          const valid = ok && secret !== undefined;
          if (valid && version === users.generation) users.cache.set(key, user);
          return valid;
        })
        .finally(() => inFlight.delete(flight));
      inFlight.set(flight, pending);
    }
    return pending;
  };
}
