// The user table: `users` entries and usersFile lines (`name:secret`), as Traefik's getUsers. Errors and warnings
// name the field and the entry's position or user, never a secret.
import { readListFile } from '@wharf/core';
import { secretKind } from './hash.js';

export interface UserTable {
  /** name → htpasswd secret. */
  secrets: Map<string, string>;
  /** Checked when the user is unknown, so an unknown name costs as much as a wrong password (as Traefik does). */
  decoy: string;
  /** Entries whose secret can never match (plain text, unknown scheme): the users to warn about. */
  unusable: string[];
}

/** Reads usersFile now; the error names the field and the reason (not found, not readable). */
export function readUsersFile(path: string): string[] {
  return readListFile(path, 'usersFile');
}

/**
 * Builds the table from the file's lines, then `users` (which win for the same name, as in Traefik). `split`
 * turns an entry into name and secret (basic: `name:secret`; digest: `name:realm:HA1`), or undefined when it
 * does not have that shape.
 */
export function userTable(
  fileEntries: readonly string[],
  inline: readonly string[],
  split: (entry: string) => [name: string, secret: string] | undefined,
  describe: string,
): UserTable {
  const secrets = new Map<string, string>();
  const add = (entries: readonly string[], field: string) =>
    entries.forEach((entry, i) => {
      const pair = split(entry);
      if (!pair) throw new Error(`${field}: entry ${i + 1} is not ${describe}`);
      secrets.set(pair[0], pair[1]);
    });
  add(fileEntries, 'usersFile');
  add(inline, 'users');
  if (secrets.size === 0) throw new Error('users: no users; set users or usersFile');
  const [decoy] = secrets.values() as MapIterator<string>;
  return { secrets, decoy: decoy!, unusable: [] };
}

/** basicAuth's `name:secret`: exactly one colon, as Traefik's basicUserParser. */
export function splitBasic(entry: string): [string, string] | undefined {
  const parts = entry.split(':');
  return parts.length === 2 ? [parts[0]!, parts[1]!] : undefined;
}

/** Users whose secret no scheme accepts (plain text included): Traefik loads them and never lets them in. */
export function unusableUsers(table: UserTable): string[] {
  return [...table.secrets].filter(([, secret]) => secretKind(secret) === 'unsupported').map(([name]) => name);
}
