// Line formats and timestamps against fixed values (Traefik's logger_formatters_test cases, in a fixed zone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clfTime, formatCommon, formatGenericCLF, formatJSON, localTime, utcTime, type Fields } from './format.js';
import { splitHostPort } from './values.js';

// Node re-reads TZ when it is assigned; Etc/GMT+9 is UTC−9 (POSIX sign), Traefik's test zone.
process.env.TZ = 'Etc/GMT+9';

const START = Date.UTC(2009, 10, 10, 23, 0, 0); // 10 Nov 2009 23:00:00 UTC
const ALL: Fields = {
  StartUTC: utcTime(START),
  Duration: 123e9,
  ClientHost: '10.0.0.1',
  ClientUsername: 'Client',
  RequestMethod: 'GET',
  RequestPath: '/foo',
  RequestProtocol: 'http',
  DownstreamStatus: 123,
  DownstreamContentSize: 132,
  'request_Referer': 'referer',
  'request_User-Agent': 'agent',
  RouterName: 'foo',
  ServiceURL: 'http://10.0.0.2/toto',
};
const EMPTY: Fields = { ...ALL, DownstreamStatus: undefined, DownstreamContentSize: undefined, 'request_Referer': '', 'request_User-Agent': '', RequestCount: 0, RouterName: '', ServiceURL: '' };
const { StartUTC: _utc, ...withoutUTC } = ALL;
const LOCAL: Fields = { ...withoutUTC, StartLocal: localTime(START) };

const cases: { desc: string; fields: Fields; common: string; generic: string }[] = [
  {
    desc: 'absent status and size, empty strings',
    fields: EMPTY,
    common: '10.0.0.1 - Client [10/Nov/2009:23:00:00 +0000] "GET /foo http" - - "-" "-" 0 "-" "-" 123000ms',
    generic: '10.0.0.1 - Client [10/Nov/2009:23:00:00 +0000] "GET /foo http" - - "-" "-"',
  },
  {
    desc: 'all data, RequestCount absent',
    fields: ALL,
    common: '10.0.0.1 - Client [10/Nov/2009:23:00:00 +0000] "GET /foo http" 123 132 "referer" "agent" - "foo" "http://10.0.0.2/toto" 123000ms',
    generic: '10.0.0.1 - Client [10/Nov/2009:23:00:00 +0000] "GET /foo http" 123 132 "referer" "agent"',
  },
  {
    desc: 'StartUTC dropped: local time with its offset',
    fields: LOCAL,
    common: '10.0.0.1 - Client [10/Nov/2009:14:00:00 -0900] "GET /foo http" 123 132 "referer" "agent" - "foo" "http://10.0.0.2/toto" 123000ms',
    generic: '10.0.0.1 - Client [10/Nov/2009:14:00:00 -0900] "GET /foo http" 123 132 "referer" "agent"',
  },
  {
    desc: 'no fields at all',
    fields: {},
    common: '- - - [-] "- - -" - - "-" "-" - "-" "-" 0ms',
    generic: '- - - [-] "- - -" - - "-" "-"',
  },
];

for (const c of cases) {
  test(`common and genericCLF: ${c.desc}`, () => {
    assert.equal(formatCommon(c.fields, START), c.common);
    assert.equal(formatGenericCLF(c.fields, START), c.generic);
  });
}

test('json: level, time (to the second) and msg around the fields; undefined fields are left out', () => {
  assert.equal(
    formatJSON({ RouterName: 'api@file', OriginStatus: undefined, DownstreamStatus: 200, RequestPath: '/a"b' }, START + 456),
    '{"level":"info","time":"2009-11-10T23:00:00Z","RouterName":"api@file","DownstreamStatus":200,"RequestPath":"/a\\"b","msg":""}',
  );
  assert.equal(formatJSON({ OriginStatus: undefined }, START), '{"level":"info","time":"2009-11-10T23:00:00Z","msg":""}');
});

test('Duration prints whole milliseconds, truncated', () => {
  assert.match(formatCommon({ Duration: 1_999_999 }, START), / 1ms$/);
  assert.match(formatCommon({ Duration: 999_999 }, START), / 0ms$/);
});

test('JSON timestamps: RFC 3339 with trimmed fraction, local with offset', () => {
  assert.equal(utcTime(START), '2009-11-10T23:00:00Z');
  assert.equal(utcTime(START + 120), '2009-11-10T23:00:00.12Z');
  assert.equal(utcTime(START + 5), '2009-11-10T23:00:00.005Z');
  assert.equal(localTime(START), '2009-11-10T14:00:00-09:00');
  assert.equal(localTime(START + 250), '2009-11-10T14:00:00.25-09:00');
  assert.equal(utcTime(START + 100), '2009-11-10T23:00:00.1Z');
  assert.equal(utcTime(START + 1999), '2009-11-10T23:00:01.999Z');
  assert.equal(utcTime(START + 1999), '2009-11-10T23:00:01.999Z', 'the same millisecond again (cached)');
  assert.equal(localTime(START + 1010), '2009-11-10T14:00:01.01-09:00');
  assert.equal(localTime(START + 1010), '2009-11-10T14:00:01.01-09:00', 'the same millisecond again (cached)');
});

test('CLF time: cached per second, UTC and local do not share the cache', () => {
  assert.equal(clfTime(START + 10, false), '10/Nov/2009:23:00:00 +0000');
  assert.equal(clfTime(START + 990, true), '10/Nov/2009:14:00:00 -0900');
  assert.equal(clfTime(START + 999, false), '10/Nov/2009:23:00:00 +0000');
  assert.equal(clfTime(START + 1000, false), '10/Nov/2009:23:00:01 +0000');
});

test('host:port splitting follows Go (port "-" when absent)', () => {
  const table: [string, [string, string]][] = [
    ['example.com:8080', ['example.com', '8080']],
    ['example.com', ['example.com', '-']],
    ['[::1]:443', ['::1', '443']],
    ['[::1]', ['[::1]', '-']],
    ['10.0.0.1:', ['10.0.0.1', '']],
  ];
  for (const [input, expected] of table) assert.deepEqual(splitHostPort(input), expected, input);
});

