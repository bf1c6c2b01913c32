// The htdigest users (`name:realm:HA1`) from `users` and usersFile, as Traefik's getUsers with digestUserParser.
// Errors name the field and the entry's position, never a secret; the file is read with core's list-file reader.
import { readListFile } from '@wharf/core';

/** `name:realm` → HA1 (32 hex digits of MD5(name:realm:password)). */
export type DigestUsers = Map<string, string>;

/** Reads usersFile now; the error names the field and the reason (not found, not readable). */
export function readUsersFile(path: string): string[] {
  return readListFile(path, 'usersFile');
}

/** The file's users, then `users` (which win for the same name and realm, as in Traefik). */
export function digestUsers(fileEntries: readonly string[], inline: readonly string[]): DigestUsers {
  const users: DigestUsers = new Map();
  const add = (entries: readonly string[], field: string) =>
    entries.forEach((entry, i) => {
      const parts = entry.split(':');
      if (parts.length !== 3) throw new Error(`${field}: entry ${i + 1} is not 'name:realm:HA1'`);
      users.set(`${parts[0]}:${parts[1]}`, parts[2]!);
    });
  add(fileEntries, 'usersFile');
  add(inline, 'users');
  if (users.size === 0) throw new Error('users: no users; set users or usersFile');
  return users;
}
