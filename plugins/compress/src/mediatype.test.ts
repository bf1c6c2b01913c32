// Media types as Go's mime.ParseMediaType reads them, the content-type filters, and sniffing a missing type.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contentTypeFilter, parseMediaType, readMediaType, requestTypeFilter } from './mediatype.js';
import { sniffContentType } from './sniff.js';

describe('readMediaType', () => {
  const cases: Array<{ desc: string; input: string; expected: { type: string; params: Record<string, string> } | string }> = [
    { desc: 'type and subtype, lower-cased', input: 'Text/HTML', expected: { type: 'text/html', params: {} } },
    { desc: 'parameters: names lower-cased, values kept', input: 'text/html; Charset=UTF-8', expected: { type: 'text/html', params: { charset: 'UTF-8' } } },
    { desc: 'quoted value', input: 'multipart/form-data; boundary="a b;c"', expected: { type: 'multipart/form-data', params: { boundary: 'a b;c' } } },
    { desc: 'a lone token is accepted, as in Go', input: 'text', expected: { type: 'text', params: {} } },
    { desc: 'trailing semicolon', input: 'text/plain;', expected: { type: 'text/plain', params: {} } },
    { desc: 'empty', input: '', expected: 'no media type' },
    { desc: 'no subtype after the slash', input: 'text/', expected: 'expected token after slash' },
    { desc: 'junk after the type', input: 'text/html html', expected: 'expected slash after first token' },
    { desc: 'parameter without value', input: 'text/html; charset', expected: 'invalid media parameter' },
    { desc: 'unterminated quote', input: 'text/html; a="b', expected: 'invalid media parameter' },
    { desc: 'duplicate parameter', input: 'text/html; a=1; A=2', expected: 'duplicate parameter name' },
  ];
  for (const { desc, input, expected } of cases) {
    test(desc, () => {
      const parsed = readMediaType(input);
      if (typeof expected === 'string') assert.equal(parsed, expected);
      else assert.deepEqual(typeof parsed === 'string' ? parsed : { type: parsed.type, params: Object.fromEntries(parsed.params) }, expected);
    });
  }

  test('a configured type that does not parse names the field and the value', () => {
    assert.throws(() => parseMediaType('text/', 'excludedContentTypes'), /^Error: excludedContentTypes: not a media type \(expected token after slash; want type\/subtype, e\.g\. text\/html\), got "text\/"$/);
  });
});

describe('content-type filters', () => {
  const types = (...values: string[]) => values.map((v) => parseMediaType(v, 'test'));
  const cases: Array<{ desc: string; excluded?: string[]; included?: string[]; contentType: string; expected: boolean }> = [
    { desc: 'no options: compressed', contentType: 'application/json', expected: true },
    { desc: 'gRPC never', contentType: 'application/grpc', expected: false },
    { desc: 'gRPC never, even when included', included: ['application/grpc'], contentType: 'application/grpc', expected: false },
    { desc: 'excluded type, any parameters', excluded: ['text/event-stream'], contentType: 'text/event-stream; charset=utf-8', expected: false },
    { desc: 'excluded type with a parameter: only exactly those parameters', excluded: ['text/html; charset=utf-8'], contentType: 'text/html', expected: true },
    { desc: 'excluded type with a parameter, matched', excluded: ['text/html; charset=utf-8'], contentType: 'TEXT/HTML; Charset=utf-8', expected: false },
    { desc: 'parameter values are case-sensitive', excluded: ['text/html; charset=utf-8'], contentType: 'text/html; charset=UTF-8', expected: true },
    { desc: 'included type', included: ['text/html'], contentType: 'text/html; charset=utf-8', expected: true },
    { desc: 'not included', included: ['text/plain'], contentType: 'text/html', expected: false },
    { desc: 'unparsable response type: not compressed', contentType: 'text/html; charset', expected: false },
  ];
  for (const { desc, excluded = [], included = [], contentType, expected } of cases) {
    test(desc, () => {
      const compressible = contentTypeFilter(types(...excluded), types(...included));
      assert.equal(compressible(contentType), expected);
      assert.equal(compressible(contentType), expected, 'the remembered verdict');
    });
  }

  test('requests: excluded by media type only, gRPC always', () => {
    const requestExcluded = requestTypeFilter(types('text/event-stream; charset=utf-8'));
    assert.equal(requestExcluded('text/event-stream'), true);
    assert.equal(requestExcluded('application/grpc+proto'), false);
    assert.equal(requestExcluded('application/grpc'), true);
    assert.equal(requestExcluded('application/json'), false);
    assert.equal(requestExcluded(undefined), false);
  });
});

describe('sniffContentType (Go http.DetectContentType)', () => {
  const cases: Array<{ desc: string; body: Buffer | string; expected: string }> = [
    { desc: 'HTML after whitespace, any case', body: '\n  <!doctype html><html>', expected: 'text/html; charset=utf-8' },
    { desc: 'a tag must end', body: '<pre>x</pre>', expected: 'text/plain; charset=utf-8' },
    { desc: 'XML', body: '<?xml version="1.0"?><a/>', expected: 'text/xml; charset=utf-8' },
    { desc: 'JSON is plain text', body: '{"a":1}', expected: 'text/plain; charset=utf-8' },
    { desc: 'PNG', body: Buffer.from('89504e470d0a1a0a0000', 'hex'), expected: 'image/png' },
    { desc: 'gzip', body: Buffer.from('1f8b0800000000', 'hex'), expected: 'application/x-gzip' },
    { desc: 'WebP in RIFF', body: Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]), expected: 'image/webp' },
    { desc: 'binary', body: Buffer.from([0x01, 0x02, 0x41]), expected: 'application/octet-stream' },
  ];
  for (const { desc, body, expected } of cases) {
    test(desc, () => assert.equal(sniffContentType(Buffer.isBuffer(body) ? body : Buffer.from(body)), expected));
  }
});
