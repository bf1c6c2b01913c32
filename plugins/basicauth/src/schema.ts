// Options of basicAuth: Traefik's names and defaults.
import { SECRET, StringList, Type, type Static } from '@wharf/core';

export const schema = Type.Object(
  {
    users: StringList({
      default: [],
      [SECRET]: true,
      description: 'Allowed users as htpasswd lines, `name:hash` (bcrypt $2y$/$2a$/$2b$, MD5 $apr1$/$1$, SHA1 {SHA}); never logged. They win over usersFile for the same name.',
    }),
    usersFile: Type.Optional(Type.String({ minLength: 1, description: 'An htpasswd file (one user per line, # comments): read at configuration time and re-read when it changes.' })),
    realm: Type.String({ default: 'traefik', description: 'Realm sent in WWW-Authenticate (default traefik).' }),
    headerField: Type.Optional(Type.String({ pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$', description: 'Request header that carries the authenticated user name to the service (e.g. X-WebAuth-User).' })),
    removeHeader: Type.Boolean({ default: false, description: 'Remove the Authorization header before forwarding (default false).' }),
  },
  { additionalProperties: false },
);

export type BasicAuthConfig = Static<typeof schema>;
