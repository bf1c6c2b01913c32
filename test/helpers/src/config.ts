// Dynamic configuration for table tests through a real gateway (plain data: this package does not import core).

export interface CaseConfig {
  http: { routers: Record<string, unknown>; middlewares: Record<string, unknown>; services: Record<string, unknown> };
}

/**
 * One router per case, matched by Host `c<i>.test` (the i-th case), each with the middleware `middleware(case)`
 * builds, all to one server; with `broken`, also a router on Host `broken.test` using that (invalid) middleware.
 */
export function routerPerCase<C>(cases: readonly C[], middleware: (c: C) => Record<string, unknown>, serverUrl: string, broken?: Record<string, unknown>): CaseConfig {
  const routers: Record<string, unknown> = {};
  const middlewares: Record<string, unknown> = {};
  if (broken) {
    routers.broken = { rule: 'Host(`broken.test`)', middlewares: ['broken'], service: 'b' };
    middlewares.broken = broken;
  }
  cases.forEach((c, i) => {
    routers[`c${i}`] = { rule: `Host(\`c${i}.test\`)`, middlewares: [`m${i}`], service: 'b' };
    middlewares[`m${i}`] = middleware(c);
  });
  return { http: { routers, middlewares, services: { b: { loadBalancer: { servers: [{ url: serverUrl }] } } } } };
}

/** A dynamic YAML file's text with one router per path prefix (`r-<p>` on PathPrefix(`/<p>`)), all to `backendUrl`. */
export function routesYaml(backendUrl: string, paths: readonly string[]): string {
  const routers = paths.map((p) => `    r-${p}:\n      rule: PathPrefix(\`/${p}\`)\n      service: s`).join('\n');
  return `http:\n  routers:\n${routers}\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: ${backendUrl}\n`;
}
