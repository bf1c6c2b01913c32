// `npm start`: the demo backends, then Wharf on the quick-start configuration (file provider, ping, live reload).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startBackend } from './backends.js';
import { main } from 'wharf';

const here = dirname(fileURLToPath(import.meta.url));
process.chdir(join(here, '..', '..'));

const backends = await Promise.all([startBackend('whoami', 9101), startBackend('api-1', 9102), startBackend('api-2', 9103)]);
process.stdout.write(`demo backends on 127.0.0.1:9101-9103
Try:
  curl http://whoami.localhost:8000/
  curl -i http://localhost:8000/api/users     (stripPrefix + headers, round-robin over two backends)
  curl http://127.0.0.1:8080/ping
  open http://127.0.0.1:8080/dashboard/       (routers, services, middlewares, live traffic)
  edit examples/quickstart/dynamic.yml and save: routes change live
`);
const code = await main(['--configFile', join(here, 'wharf.yml'), ...process.argv.slice(2)]);
for (const server of backends) server.close();
process.exit(code ?? 0);
