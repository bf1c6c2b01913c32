// Tests for the routing table: Traefik priority order, and equivalence of the host index with a linear scan.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRequestFacts, normalizeHost, type RequestFacts } from './request-facts.js';
import { compileRule, type CompiledRule } from './rule/index.js';
import { RoutingTable, compareRoutes, routerPriority, type RouteEntry } from './table.js';

function entry(name: string, rule: string, priority = 0): RouteEntry<string> {
  return { name, rule: compileRule(rule), priority, value: `service-${name}` };
}

function facts(host: string, path = '/', method = 'GET'): RequestFacts {
  return createRequestFacts({ host: normalizeHost(host), path, method });
}

describe('RoutingTable priority', () => {
  const cases: { desc: string; entries: RouteEntry<string>[]; request: RequestFacts; expected: string | undefined }[] = [
    {
      desc: 'longer rule wins by default',
      entries: [entry('short', 'PathPrefix(`/`)'), entry('long', 'PathPrefix(`/api`)')],
      request: facts('a', '/api/x'),
      expected: 'long',
    },
    {
      desc: 'explicit priority beats rule length',
      entries: [entry('short', 'PathPrefix(`/`)', 100), entry('long', 'PathPrefix(`/api`)')],
      request: facts('a', '/api/x'),
      expected: 'short',
    },
    {
      desc: 'priority 0 means rule length, like an absent one',
      entries: [entry('zero', 'PathPrefix(`/api`)', 0), entry('explicit', 'PathPrefix(`/`)', 'PathPrefix(`/api`)'.length - 1)],
      request: facts('a', '/api/x'),
      expected: 'zero',
    },
    {
      desc: 'a positive priority is kept even below the other rule\'s length',
      entries: [entry('explicit', 'PathPrefix(`/api`)', 1), entry('default', 'PathPrefix(`/`)')],
      request: facts('a', '/api/x'),
      expected: 'default',
    },
    {
      desc: 'a negative priority is kept and sorts after every default',
      entries: [entry('negative', 'PathPrefix(`/api/longer/rule`)', -1), entry('default', 'PathPrefix(`/`)')],
      request: facts('a', '/api/longer/rule'),
      expected: 'default',
    },
    {
      desc: 'the lower of two negative priorities loses',
      entries: [entry('minus2', 'PathPrefix(`/`)', -2), entry('minus1', 'PathPrefix(`/`)', -1)],
      request: facts('a'),
      expected: 'minus1',
    },
    {
      desc: 'an explicit priority equal to a rule length ties, broken by name',
      entries: [entry('b', 'PathPrefix(`/`)'), entry('a', 'Path(`/`)', 'PathPrefix(`/`)'.length)],
      request: facts('x'),
      expected: 'a',
    },
    {
      desc: 'equal priorities: provider precedence before name (docker before file)',
      entries: [entry('a@file', 'PathPrefix(`/`)'), entry('b@docker', 'PathPrefix(`/`)')],
      request: facts('x'),
      expected: 'b@docker',
    },
    {
      desc: 'equal priorities: swarm before docker',
      entries: [entry('a@docker', 'PathPrefix(`/`)', 7), entry('b@swarm', 'Path(`/`)', 7)],
      request: facts('x'),
      expected: 'b@swarm',
    },
    {
      desc: 'equal priorities: a provider outside the precedence list loses to a listed one',
      entries: [entry('a@internal', 'PathPrefix(`/`)'), entry('z@file', 'PathPrefix(`/`)')],
      request: facts('x'),
      expected: 'z@file',
    },
    {
      desc: 'a higher priority wins whatever the provider',
      entries: [entry('a@swarm', 'PathPrefix(`/`)'), entry('b@internal', 'PathPrefix(`/`)', 100)],
      request: facts('x'),
      expected: 'b@internal',
    },
    {
      desc: 'ties broken by name, whatever the configuration order (b first)',
      entries: [entry('b', 'PathPrefix(`/`)'), entry('a', 'PathPrefix(`/`)')],
      request: facts('x'),
      expected: 'a',
    },
    {
      desc: 'ties broken by name, whatever the configuration order (a first)',
      entries: [entry('a', 'PathPrefix(`/`)'), entry('b', 'PathPrefix(`/`)')],
      request: facts('x'),
      expected: 'a',
    },
    {
      desc: 'general router with higher priority beats a host router',
      entries: [entry('host', 'Host(`a.example`)'), entry('general', 'PathPrefix(`/`)', 1000)],
      request: facts('a.example'),
      expected: 'general',
    },
    {
      desc: 'host router with higher priority beats a general router',
      entries: [entry('host', 'Host(`a.example`) && PathPrefix(`/`)'), entry('general', 'PathPrefix(`/`)')],
      request: facts('A.EXAMPLE:443'),
      expected: 'host',
    },
    {
      desc: 'host router for another host is not a candidate',
      entries: [entry('host', 'Host(`a.example`) && PathPrefix(`/`)'), entry('general', 'PathPrefix(`/`)')],
      request: facts('b.example'),
      expected: 'general',
    },
    {
      desc: 'host bucket falls through to lower-priority general routers',
      entries: [entry('host', 'Host(`a.example`) && Path(`/only`)'), entry('general', 'PathPrefix(`/`)')],
      request: facts('a.example', '/other'),
      expected: 'general',
    },
    {
      desc: 'router listed under several hosts',
      entries: [entry('multi', 'Host(`a.example`) || Host(`b.example`)'), entry('general', 'PathPrefix(`/`)')],
      request: facts('b.example'),
      expected: 'multi',
    },
    {
      desc: 'nothing matches',
      entries: [entry('host', 'Host(`a.example`)'), entry('get', 'Method(`GET`)')],
      request: facts('b.example', '/', 'POST'),
      expected: undefined,
    },
    { desc: 'empty table', entries: [], request: facts('a.example'), expected: undefined },
  ];
  for (const { desc, entries, request, expected } of cases) {
    test(desc, () => assert.equal(new RoutingTable(entries).match(request)?.name, expected));
  }

  const priorities: { desc: string; input: { configured: number | undefined; rule: string }; expected: number }[] = [
    { desc: 'absent: the rule length', input: { configured: undefined, rule: 'Path(`/e`)' }, expected: 10 },
    { desc: '0: the rule length', input: { configured: 0, rule: 'Path(`/e`)' }, expected: 10 },
    { desc: 'rule length in bytes, like Go len()', input: { configured: undefined, rule: 'Path(`/é`)' }, expected: 11 },
    { desc: 'positive: kept', input: { configured: 3, rule: 'Path(`/e`)' }, expected: 3 },
    { desc: 'negative: kept', input: { configured: -5, rule: 'Path(`/e`)' }, expected: -5 },
  ];
  for (const { desc, input, expected } of priorities) {
    test(`routerPriority: ${desc}`, () => assert.equal(routerPriority(input.configured, input.rule), expected));
  }

  test('routerPriority is idempotent, so the table can re-derive what the build computed', () => {
    for (const configured of [undefined, 0, 3, -5]) {
      const once = routerPriority(configured, 'Host(`a`)');
      assert.equal(routerPriority(once, 'Host(`a`)'), once);
    }
  });

  test('size counts every entry', () => {
    assert.equal(new RoutingTable([entry('a', 'Host(`a`)'), entry('b', 'Path(`/`)')]).size, 2);
  });

  test('returns the entry with its value', () => {
    const table = new RoutingTable([entry('a', 'Host(`a`)')]);
    assert.equal(table.match(facts('a'))?.value, 'service-a');
  });
});

/** Deterministic PRNG (mulberry32) so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTS = ['a.example', 'b.example', 'c.example'];
const PATHS = ['/', '/x', '/x/y', '/z'];
const METHODS = ['GET', 'POST'];

function randomRule(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const templates: (() => string)[] = [
    () => `Host(\`${pick(HOSTS)}\`)`,
    () => `Host(\`${pick(HOSTS)}\`) && PathPrefix(\`${pick(PATHS)}\`)`,
    () => `PathPrefix(\`${pick(PATHS)}\`) && Host(\`${pick(HOSTS).toUpperCase()}\`)`,
    () => `Host(\`*.${pick(HOSTS)}\`) || Host(\`${pick(HOSTS)}\`)`,
    () => `Host(\`*\`) && PathPrefix(\`${pick(PATHS)}\`)`,
    () => `Host(\`${pick(HOSTS)}\`) || Host(\`${pick(HOSTS)}\`) && Method(\`${pick(METHODS)}\`)`,
    () => `Host(\`${pick(HOSTS)}\`) || PathPrefix(\`${pick(PATHS)}\`)`,
    () => `!Host(\`${pick(HOSTS)}\`)`,
    () => `PathPrefix(\`${pick(PATHS)}\`)`,
    () => `Method(\`${pick(METHODS)}\`) && Host(\`${pick(HOSTS)}.\`)`,
    () => `HostRegexp(\`^(a|b)\\.\`) && Path(\`${pick(PATHS)}\`)`,
    () => `Path(\`${pick(PATHS)}\`)`,
  ];
  return pick(templates)();
}

/** The reference: the first matching entry in compareRoutes order, ties to the earlier entry. */
function linearScan<T>(entries: readonly RouteEntry<T>[], request: RequestFacts): RouteEntry<T> | undefined {
  let best: RouteEntry<T> | undefined;
  for (const candidate of entries) {
    if (!candidate.rule.match(request)) continue;
    if (!best || compareRoutes(candidate, best) < 0) best = candidate;
  }
  return best;
}

const PROVIDERS = ['', '@file', '@docker', '@swarm', '@internal'];

function randomPriority(random: () => number): number {
  const draw = random();
  if (draw < 0.4) return 0;
  if (draw < 0.5) return -1 - Math.floor(random() * 3);
  return 15 + Math.floor(random() * 30);
}

describe('RoutingTable equivalence with a linear scan', () => {
  test('randomized tables and requests (seed 20240611)', () => {
    const random = prng(20240611);
    const requestHosts = [...HOSTS, 'd.example', 'A.EXAMPLE:8080', 'b.example.'];
    let compared = 0;
    let matched = 0;
    for (let trial = 0; trial < 400; trial++) {
      const size = 1 + Math.floor(random() * 30);
      const entries = Array.from({ length: size }, (_, i): RouteEntry<number> => ({
        // A small name pool forces equal names; priorities near rule lengths force equal priorities; providers
        // in and out of the precedence list exercise its tie-break.
        name: `r${Math.floor(random() * 8)}${PROVIDERS[Math.floor(random() * PROVIDERS.length)]}`,
        rule: compileRule(randomRule(random)),
        priority: randomPriority(random),
        value: i,
      }));
      const table = new RoutingTable(entries);
      for (let r = 0; r < 40; r++) {
        const request = facts(
          requestHosts[Math.floor(random() * requestHosts.length)]!,
          PATHS[Math.floor(random() * PATHS.length)]!,
          METHODS[Math.floor(random() * METHODS.length)]!,
        );
        const expected = linearScan(entries, request);
        assert.equal(table.match(request), expected, `trial ${trial}, request ${r}`);
        compared++;
        if (expected) matched++;
      }
    }
    // Guard against a generator that never (or always) matches, which would make the comparison vacuous.
    assert.ok(matched > compared * 0.3 && matched < compared * 0.95, `matched ${matched} of ${compared}`);
  });
});

describe('RoutingTable with 10,000 Host routers', () => {
  /** Wraps a compiled rule to count how often the table evaluates it. */
  function counted(rule: CompiledRule, counter: { calls: number }): CompiledRule {
    return {
      rule: rule.rule,
      hosts: rule.hosts,
      match(request) {
        counter.calls++;
        return rule.match(request);
      },
    };
  }

  const counter = { calls: 0 };
  const entries: RouteEntry<number>[] = Array.from({ length: 10_000 }, (_, i) => ({
    name: `svc${i}`,
    rule: counted(compileRule(`Host(\`svc${i}.example.com\`) && PathPrefix(\`/\`)`), counter),
    priority: 0,
    value: i,
  }));
  entries.push(
    { name: 'api-any-host', rule: counted(compileRule('PathPrefix(`/api`)'), counter), priority: 0, value: -1 },
    { name: 'catch-all', rule: counted(compileRule('PathPrefix(`/`)'), counter), priority: 1, value: -2 },
  );
  const table = new RoutingTable(entries);

  const cases: { desc: string; request: RequestFacts; expected: number; maxCalls: number }[] = [
    { desc: 'first host', request: facts('svc0.example.com'), expected: 0, maxCalls: 1 },
    { desc: 'last host, with port and upper case', request: facts('SVC9999.example.com:443'), expected: 9999, maxCalls: 1 },
    { desc: 'general router below the host routers', request: facts('svc42.example.com', '/api/v1'), expected: 42, maxCalls: 1 },
    { desc: 'unknown host falls to the general routers', request: facts('nobody.example.com', '/api/v1'), expected: -1, maxCalls: 1 },
    { desc: 'unknown host, catch-all', request: facts('nobody.example.com', '/web'), expected: -2, maxCalls: 2 },
  ];
  for (const { desc, request, expected, maxCalls } of cases) {
    test(desc, () => {
      counter.calls = 0;
      assert.equal(table.match(request)?.value, expected);
      assert.equal(table.match(request), linearScan(entries, request));
      // The linear scan above evaluated every rule; only the table's own calls are bounded.
      counter.calls = 0;
      table.match(request);
      assert.ok(counter.calls <= maxCalls, `evaluated ${counter.calls} rules, expected at most ${maxCalls}`);
    });
  }

  test('size', () => assert.equal(table.size, 10_002));
});
