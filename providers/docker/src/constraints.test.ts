// Table tests for providers.docker.constraints expressions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileConstraints } from './constraints.js';

const labels = { 'traefik.enable': 'true', tier: 'front', 'com.docker.stack.namespace': 'golf-stack' };

test('constraints: Label, LabelRegex, !, &&, || and parentheses', () => {
  const cases: { expr: string; expected: boolean }[] = [
    { expr: 'Label(`tier`, `front`)', expected: true },
    { expr: 'Label(`tier`, `back`)', expected: false },
    { expr: '!Label(`tier`, `back`)', expected: true },
    { expr: 'LabelRegex(`com.docker.stack.namespace`, `^golf`)', expected: true },
    { expr: 'LabelRegex(`com.docker.stack.namespace`, `stack`)', expected: true }, // matches anywhere, as Go's MatchString
    { expr: 'Label(`tier`, `back`) || Label("traefik.enable", "true")', expected: true },
    { expr: 'Label(`tier`, `front`) && !(Label(`a`, `b`) || LabelRegex(`tier`, `^b`))', expected: true },
    { expr: 'label(`missing`, ``)', expected: true }, // a missing label reads as empty, as in Traefik
  ];
  for (const c of cases) assert.equal(compileConstraints(c.expr, '--c')(labels), c.expected, c.expr);
});

test('constraints: errors name the flag and the column', () => {
  const cases: { expr: string; error: RegExp }[] = [
    { expr: 'Label(`a`)', error: /--providers.docker.constraints: .*column 1: Label takes 2 arguments/ },
    { expr: 'Tag(`a`, `b`)', error: /unknown matcher 'Tag' \(known: Label, LabelRegex\)/ },
    { expr: 'Label(`a`, `b`) & Label(`c`, `d`)', error: /column 17: expected '&&'/ },
    { expr: 'LabelRegex(`a`, `(`)', error: /invalid regular expression/ },
    { expr: '(Label(`a`, `b`)', error: /'\(' is not closed/ },
    { expr: '', error: /empty/ },
  ];
  for (const c of cases) assert.throws(() => compileConstraints(c.expr, '--providers.docker.constraints'), c.error, c.expr);
});
