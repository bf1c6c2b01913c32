// Traefik's pkg/ip cases (checker_test.go, strategy_test.go) for the shared client-IP helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardedIPPicker, ipMatcher, maskIPv6, parseIPRange } from './ip.js';

test('ipMatcher: addresses and CIDRs, IPv4 and IPv6, mapped IPv4 and host:port', () => {
  const contains = ipMatcher(['1.2.3.4/24', '2a03:4000:6:d080::/64', '10.0.0.1', '::1'], 'sourceRange');
  const table: Array<[string, boolean]> = [
    ['1.2.3.1', true],
    ['1.2.3.254', true],
    ['1.2.4.1', false],
    ['10.0.0.1', true],
    ['10.0.0.2', false],
    ['::ffff:1.2.3.9', true],
    ['2a03:4000:6:d080::42', true],
    ['2a03:4000:7:d080::42', false],
    ['::1', true],
    ['1.2.3.9:8080', true],
    ['[::1]:8080', true],
    ['', false],
    ['foo', false],
    ['1.2.3', false],
  ];
  for (const [ip, expected] of table) assert.equal(contains(ip), expected, `'${ip}'`);
});

test('parseIPRange and ipMatcher name the field and the entry that does not parse', () => {
  for (const entry of ['foo', '1.2.3.4/33', '::1/129', '1.2.3.0/24/1', '1.2.3.4/', '10.0.0.0/-1', '300.1.1.1']) {
    assert.throws(() => ipMatcher(['10.0.0.0/8', entry], 'sourceRange'), { message: `sourceRange: '${entry}' is not an IP address or CIDR range` }, entry);
  }
  assert.deepEqual(parseIPRange(' 2001:db8::/32 ', 'x'), { address: '2001:db8::', prefix: 32, family: 'ipv6' });
});

test('forwardedIPPicker: depth from the right, excludedIPs walk from the right, as Traefik', () => {
  const cases: Array<{ desc: string; strategy: { depth?: number; excludedIPs?: string[] }; header: string | string[] | undefined; expected: string | undefined }> = [
    { desc: 'depth 1 is the last entry', strategy: { depth: 1 }, header: '10.0.0.4,10.0.0.3,10.0.0.2,10.0.0.1', expected: '10.0.0.1' },
    { desc: 'depth 3', strategy: { depth: 3 }, header: '10.0.0.4, 10.0.0.3, 10.0.0.2, 10.0.0.1', expected: '10.0.0.3' },
    { desc: 'depth larger than the list', strategy: { depth: 5 }, header: '10.0.0.2,10.0.0.1', expected: undefined },
    { desc: 'no header', strategy: { depth: 1 }, header: undefined, expected: undefined },
    { desc: 'depth returns the entry as written', strategy: { depth: 1 }, header: '10.0.0.1, garbage', expected: 'garbage' },
    { desc: 'depth wins over excludedIPs', strategy: { depth: 1, excludedIPs: ['10.0.0.1'] }, header: '10.0.0.2,10.0.0.1', expected: '10.0.0.1' },
    { desc: 'repeated header fields read as one list', strategy: { depth: 2 }, header: ['10.0.0.3', '10.0.0.2, 10.0.0.1'], expected: '10.0.0.2' },
    { desc: 'excludedIPs skips trusted proxies', strategy: { excludedIPs: ['10.0.0.0/16', '192.168.1.1'] }, header: '1.1.1.1, 10.0.0.8, 192.168.1.1', expected: '1.1.1.1' },
    { desc: 'excludedIPs takes the rightmost not excluded', strategy: { excludedIPs: ['10.0.0.0/16'] }, header: '1.1.1.1, 2.2.2.2, 10.0.0.8', expected: '2.2.2.2' },
    { desc: 'excludedIPs: every entry excluded', strategy: { excludedIPs: ['10.0.0.0/16'] }, header: '10.0.0.1,10.0.0.2', expected: undefined },
    { desc: 'excludedIPs: empty entries skipped', strategy: { excludedIPs: ['10.0.0.0/16'] }, header: '1.1.1.1, ,10.0.0.2', expected: '1.1.1.1' },
    { desc: 'excludedIPs: a non-IP stops the walk (Traefik returns it)', strategy: { excludedIPs: ['10.0.0.0/16'] }, header: '1.1.1.1, junk, 10.0.0.2', expected: 'junk' },
  ];
  for (const { desc, strategy, header, expected } of cases) {
    assert.equal(forwardedIPPicker(strategy, 'ipStrategy')!(header), expected, desc);
  }
  assert.equal(forwardedIPPicker({}, 'ipStrategy'), undefined, 'no strategy: the TCP peer');
  assert.throws(() => forwardedIPPicker({ excludedIPs: ['nope'] }, 'ipStrategy'), { message: "ipStrategy.excludedIPs: 'nope' is not an IP address or CIDR range" });
});

test('maskIPv6 keeps the prefix, leaves IPv4 alone', () => {
  const table: [string, number, string][] = [
    ['2001:db8:1:2:3:4:5:6', 64, '2001:db8:1:2::'],
    ['2001:db8::1', 64, '2001:db8::'],
    ['2001:db8:abcd:12ff::1', 56, '2001:db8:abcd:1200::'],
    ['::1', 128, '::1'],
    ['fe80::1', 0, '::'],
    ['::ffff:1.2.3.4', 112, '::ffff:102:0'],
    ['10.1.2.3', 64, '10.1.2.3'],
  ];
  for (const [ip, prefix, expected] of table) assert.equal(maskIPv6(ip, prefix), expected, `${ip}/${prefix}`);
});
