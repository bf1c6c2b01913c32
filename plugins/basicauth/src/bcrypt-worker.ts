// Worker thread of bcrypt-pool: one compare per message, answered with its id.
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

const decoder = new TextDecoder('utf-8', { fatal: true });

parentPort!.on('message', ({ id, password, secret }: { id: number; password: Uint8Array; secret: string }) => {
  let text: string;
  try {
    // bcryptjs hashes the UTF-8 of a string: bytes that are not UTF-8 cannot be the password it hashed.
    text = decoder.decode(password);
  } catch {
    parentPort!.postMessage({ id, ok: false });
    return;
  }
  try {
    parentPort!.postMessage({ id, ok: bcrypt.compareSync(text, secret) });
  } catch {
    // A malformed hash (checked when the users load): a mismatch, as Go's bcrypt answers.
    parentPort!.postMessage({ id, ok: false });
  }
});
