// Waiting for a gateway's worker processes (--workers) to all have the configuration.
import { eventually } from './eventually.js';
import { get } from './http.js';

/**
 * Resolves once `streak` fresh connections in a row get 200 on `path`: the primary hands connections to the
 * workers in turn, so a long enough run of successes means every worker has the routes.
 */
export async function allWorkersReady(port: number, path = '/ready', streak = 8): Promise<void> {
  let run = 0;
  await eventually(async () => {
    const status = await get(port, path).then((r) => r.status, () => 0);
    run = status === 200 ? run + 1 : 0;
    return run >= streak;
  }, `${streak} answers in a row from the workers on ${path}`, 60_000, 25);
}
