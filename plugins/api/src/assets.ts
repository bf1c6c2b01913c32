// The dashboard's files, read once at start-up: index.html and CSS from dashboard/, scripts compiled to
// dist/dashboard/. Only these names are served, so no request path ever reaches the file system.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

/** File name (`index.html`, `app.js`) → contents. */
export function loadDashboardAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (dir: string, accept: (name: string) => boolean) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!accept(name)) continue;
      assets.set(name, { body: readFileSync(join(dir, name)), type: TYPES[extname(name)] ?? 'application/octet-stream' });
    }
  };
  const packageRoot = fileURLToPath(new URL('../', import.meta.url));
  add(join(packageRoot, 'dashboard'), (n) => ['.html', '.css', '.svg'].includes(extname(n)));
  add(join(packageRoot, 'dist', 'dashboard'), (n) => n.endsWith('.js') || n.endsWith('.js.map'));
  return assets;
}
