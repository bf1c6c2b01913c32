// The official Docker Engine API specification (moby/moby api/swagger.yaml) as a validator of responses:
// everything the emulator sends is checked against the response schema of the operation it answers.
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

// Vendored beside this module (see engine-api/NOTICE), so a plain clone needs nothing outside the repository.
const VENDORED = join(dirname(fileURLToPath(import.meta.url)), 'engine-api', 'swagger.yaml');

const SPEC_HELP = 'the repository ships it as test/docker/engine-api/swagger.yaml; the official file is api/swagger.yaml of any moby/moby release ' +
  '(https://raw.githubusercontent.com/moby/moby/master/api/swagger.yaml), or point DOCKER_API_SPEC at one';

/** Where the spec is read from: $DOCKER_API_SPEC, else the copy in test/docker/engine-api/. */
export function specPath() {
  return process.env.DOCKER_API_SPEC || VENDORED;
}

export class EngineSpec {
  operations = [];
  ajv;
  validators = new Map();
  version;

  constructor(spec) {
    this.version = String(spec.info?.version ?? '?');
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...allowNullable(spec), $id: 'engine' });
    for (const [template, item] of Object.entries(spec.paths)) {
      const get = item.get;
      if (!get?.responses) continue;
      const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      this.operations.push({ template, pattern, responses: get.responses });
    }
  }

  /** Loads the spec, or throws saying where to get it. */
  static load() {
    const path = specPath();
    if (!existsSync(path)) throw new Error(`Docker Engine API specification not found at ${path}: ${SPEC_HELP}`);
    return new EngineSpec(parse(readFileSync(path, 'utf8')));
  }

  /** The spec's path template for a request path (`/v1.41/containers/abc/json` → `/containers/{id}/json`). */
  operationOf(path) {
    const bare = path.split('?')[0].replace(/^\/v\d+\.\d+(?=\/)/, '');
    return this.operations.find((op) => op.pattern.test(bare))?.template;
  }

  /** Problems with one GET response; empty when it matches the spec. `body` is parsed JSON (or text for /_ping). */
  validate(path, status, body) {
    const bare = path.split('?')[0].replace(/^\/v\d+\.\d+(?=\/)/, '');
    const op = this.operations.find((o) => o.pattern.test(bare));
    if (!op) return [`GET ${bare} is not an operation of the Engine API ${this.version}`];
    const response = op.responses[String(status)];
    if (!response) return [`GET ${op.template} has no ${status} response in the spec (has ${Object.keys(op.responses).join(', ')})`];
    if (!response.schema) return [];
    const key = `${op.template} ${status}`;
    let validate = this.validators.get(key);
    if (!validate) {
      const pointer = `engine#/paths/${encodePointer(op.template)}/get/responses/${status}/schema`;
      validate = this.ajv.compile({ $ref: pointer });
      this.validators.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).slice(0, 10).map((e) => `${op.template} ${status}: ${e.instancePath || '/'} ${e.message ?? e.keyword}`);
  }
}

function encodePointer(template) {
  return template.replace(/~/g, '~0').replace(/\//g, '~1').replace(/\{/g, '%7B').replace(/\}/g, '%7D');
}

/** Swagger 2's `x-nullable: true` is JSON Schema's "or null"; everywhere else null is a violation. */
function allowNullable(node) {
  if (Array.isArray(node)) return node.map(allowNullable);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = allowNullable(v);
  if (out['x-nullable'] !== true) return out;
  if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] };
  return { anyOf: [out, { type: 'null' }] };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function addFormats(ajv) {
  const integer = (min, max) => ({ type: 'number', validate: (n) => Number.isInteger(n) && n >= min && n <= max });
  ajv.addFormat('int', integer(-(2 ** 31), 2 ** 31 - 1));
  ajv.addFormat('int64', integer(-Number.MAX_VALUE, Number.MAX_VALUE));
  ajv.addFormat('uint8', integer(0, 255));
  ajv.addFormat('uint16', integer(0, 65535));
  ajv.addFormat('uint32', integer(0, 2 ** 32 - 1));
  ajv.addFormat('uint64', integer(0, Number.MAX_VALUE));
  ajv.addFormat('date-time', RFC3339);
  ajv.addFormat('dateTime', RFC3339);
  ajv.addFormat('ip-address', (s) => isIP(s) !== 0);
  ajv.addFormat('CIDR', (s) => isIP(s.split('/')[0]) !== 0);
  ajv.addFormat('cidr', (s) => isIP(s.split('/')[0]) !== 0);
  ajv.addFormat('uri', (s) => URL.canParse(s));
  ajv.addFormat('binary', () => true);
  ajv.addFormat('json', () => true);
}
