// What building a generation does the same way for HTTP and TCP elements: create each one once, on first use,
// and assemble a router's chain of them.
import { addError, type ElementInfo } from '../config/runtime.js';
import { messageOf } from '../errors.js';

/**
 * The element `name` built at most once per generation, on first use; `user` is recorded in its usedBy. A creation
 * that throws disables the element (its message on the element), and every user gets null, as for a missing one.
 */
export function buildOnce<E, I extends ElementInfo & { usedBy: string[] }, T>(
  name: string,
  user: string,
  info: I | undefined,
  element: E | undefined,
  built: Map<string, T | null>,
  create: (element: E, info: I) => T,
): T | null {
  if (info && !info.usedBy.includes(user)) info.usedBy.push(user);
  if (built.has(name)) return built.get(name)!;
  let made: T | null = null;
  if (element !== undefined && info) {
    try {
      made = create(element, info);
    } catch (err) {
      addError(info, messageOf(err), true);
    }
  }
  built.set(name, made);
  return made;
}

/** The elements `names` in order, or null at the first one `get` cannot give (`missing` says why on the router). */
export function chainOf<T>(names: readonly string[], get: (name: string) => T | null, missing: (name: string) => void): T[] | null {
  const chain: T[] = [];
  for (const name of names) {
    const element = get(name);
    if (!element) {
      missing(name);
      return null;
    }
    chain.push(element);
  }
  return chain;
}
