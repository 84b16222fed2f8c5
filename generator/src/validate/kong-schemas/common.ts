// Building blocks of the project's own Kong schemas (JSON Schema, draft-07, for ajv). Every object
// is closed: a field we do not know is an error, as Kong's own schema validation would say.
import type { SchemaObject } from 'ajv';

export const str: SchemaObject = { type: 'string', minLength: 1 };
export const bool: SchemaObject = { type: 'boolean' };
export const strings: SchemaObject = { type: 'array', items: str };
export const stringMap: SchemaObject = { type: 'object', additionalProperties: { type: 'string' } };

export function closed(properties: Record<string, SchemaObject>, required: string[] = []): SchemaObject {
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) };
}

/** A Kong vault reference, e.g. `{vault://env/aigw-credential-openai}`: where a secret must be, never its value. */
export const vaultReference: SchemaObject = {
  type: 'string',
  pattern: '^\\{vault://[a-z0-9_-]+/[^{}\\s]+\\}$',
  'x-message': 'must be a Kong vault reference such as {vault://env/NAME}, never a secret value',
};

/** Kubernetes object names. */
export const dnsSubdomain: SchemaObject = {
  type: 'string',
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
};
export const dnsLabel: SchemaObject = { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };

/** A Kong timeout in milliseconds (1 … 2^31 - 2). */
export const timeoutMs: SchemaObject = { type: 'integer', minimum: 1, maximum: 2147483646 };
