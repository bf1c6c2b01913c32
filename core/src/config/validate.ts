// Schema validation and defaults through ajv, compiled once per schema and reused for every element.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { ELEMENT } from './schema.js';

export interface ValidationError {
  /** Path segments inside the validated value. */
  path: string[];
  message: string;
}

// strict: false because our schemas carry x-wharf-* annotation keywords; coercion is the decoder's job.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** Validates in place, filling defaults of objects that exist; returns the errors (empty when valid). */
export function validateWithDefaults(schema: TSchema, value: unknown): ValidationError[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(withoutNestedElements(schema, true));
    compiled.set(schema, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map(toValidationError);
}

/** Nested elements are validated on their own (decode.ts), so the parent schema accepts them as they are. */
function withoutNestedElements(schema: TSchema, isRoot: boolean): TSchema {
  if (!isRoot && schema[ELEMENT]) return {} as TSchema;
  const out: Record<string, unknown> = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties as Record<string, TSchema>).map(([k, v]) => [k, withoutNestedElements(v, false)]),
    );
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.additionalProperties = withoutNestedElements(schema.additionalProperties as TSchema, false);
  }
  if (schema.patternProperties) {
    out.patternProperties = Object.fromEntries(
      Object.entries(schema.patternProperties as Record<string, TSchema>).map(([k, v]) => [k, withoutNestedElements(v, false)]),
    );
  }
  if (schema.items && typeof schema.items === 'object') out.items = withoutNestedElements(schema.items as TSchema, false);
  if (schema.anyOf) out.anyOf = (schema.anyOf as TSchema[]).map((s) => withoutNestedElements(s, false));
  return out as TSchema;
}

function toValidationError(err: ErrorObject): ValidationError {
  const path = err.instancePath.split('/').filter(Boolean).map(unescapePointer);
  switch (err.keyword) {
    case 'required':
      return { path: [...path, String(err.params.missingProperty)], message: 'is required' };
    case 'enum':
      return { path, message: `must be one of ${(err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { path, message: err.message ?? `is invalid (${err.keyword})` };
  }
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
