// Table tests for the defaultRule template subset and Traefik's normalize.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, normalize } from './template.js';

const data = { Name: 'web-myproj', ContainerName: 'myproj_web_1', Labels: { 'app.domain': 'shop.example', env: 'prod' } };

test('template: renders the subset Traefik users write', () => {
  const cases: { desc: string; template: string; expected: string }[] = [
    { desc: 'default rule', template: 'Host(`{{ normalize .Name }}`)', expected: 'Host(`web-myproj`)' },
    { desc: 'plain field', template: 'Host(`{{ .Name }}.local`)', expected: 'Host(`web-myproj.local`)' },
    { desc: 'container name normalized', template: 'Host(`{{ normalize .ContainerName }}`)', expected: 'Host(`myproj-web-1`)' },
    { desc: 'index on labels with a dotted key', template: 'Host(`{{ index .Labels "app.domain" }}`)', expected: 'Host(`shop.example`)' },
    { desc: 'missing label is empty, as in Go', template: '{{ index .Labels "nope" }}', expected: '' },
    { desc: 'pipes pass the value last', template: '{{ .Name | upper }}-{{ .Labels.env | trimPrefix "pr" }}', expected: 'WEB-MYPROJ-od' },
    { desc: 'trim markers', template: 'Host(`a`)  {{- " || " -}}  Host(`b`)', expected: 'Host(`a`) || Host(`b`)' },
    { desc: 'replace', template: '{{ replace "-" "." .Name }}', expected: 'web.myproj' },
    { desc: 'no action', template: 'PathPrefix(`/`)', expected: 'PathPrefix(`/`)' },
  ];
  for (const c of cases) assert.equal(compileTemplate(c.template, '--x')(data), c.expected, c.desc);
});

test('template: unsupported constructs fail at compile time with the setting name', () => {
  const cases: { template: string; error: RegExp }[] = [
    { template: '{{ if .Name }}x{{ end }}', error: /--providers.docker.defaultRule: .*unsupported function or keyword 'if'/ },
    { template: '{{ .Foo }}', error: /unknown field \.Foo/ },
    { template: 'Host(`{{ .Name `)', error: /not closed/ },
    { template: '{{ normalize }}', error: /normalize takes 1 argument, got 0/ },
    { template: '{{ $x := .Name }}', error: /unsupported token/ },
    { template: '{{ }}', error: /empty action/ },
  ];
  for (const c of cases) assert.throws(() => compileTemplate(c.template, '--providers.docker.defaultRule'), c.error, c.template);
});

test('normalize: non-alphanumeric runs become one dash, trimmed', () => {
  assert.equal(normalize('/my_app.1'), 'my-app-1');
  assert.equal(normalize('web__front--end'), 'web-front-end');
  assert.equal(normalize('café_1'), 'café-1');
});
