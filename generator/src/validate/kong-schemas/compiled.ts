// Kong's schemas (ours: crds.ts, deck.ts, plugins.ts) as ajv validators. `npm run build` compiles
// them ahead of time into dist/ (scripts/build-kong-validators.mjs, ajv's standalone code): gen
// loads them instead of compiling ~15 schemas on every run. The TypeScript sources (tests) compile
// them here; kong-validators.test.ts holds the two to the same errors.
import { createHash } from 'node:crypto';
import type { KeywordDefinition, Options, ValidateFunction } from 'ajv';
import { crdSchemas } from './crds.js';
import { deckSchema } from './deck.js';
import { pluginSchemas } from './plugins.js';

export const kongAjvOptions: Options = {
  allErrors: true,
  verbose: true,
  strict: true,
  strictTypes: false,
  strictRequired: false,
};

/** `x-message`: the message for an anyOf/pattern failure, no validation. */
export const xMessage: KeywordDefinition = { keyword: 'x-message', schemaType: 'string' };

/** Every schema under the name its compiled validator is exported as (a JavaScript identifier). */
export function kongSchemasByName(): Map<string, object> {
  return new Map<string, object>([
    ...Object.entries(crdSchemas).map(([kind, s]) => [`crd_${kind}`, s] as [string, object]),
    ['deck', deckSchema],
    ...Object.entries(pluginSchemas).map(([p, s]) => [`plugin_${p.replaceAll('-', '_')}`, s] as [string, object]),
  ]);
}

/** SHA-256 of the schemas by name: the build writes it beside the validators it compiled. */
export function kongSchemasDigest(): string {
  return createHash('sha256')
    .update(JSON.stringify([...kongSchemasByName()]))
    .digest('hex');
}

/**
 * The validators `npm run build` compiled, if this is dist/ and they were compiled from these very
 * schemas (a dist/ rebuilt by tsc alone may hold older ones); undefined otherwise.
 */
export async function prebuiltKongValidators(): Promise<Record<string, ValidateFunction> | undefined> {
  const file = './validators.js'; // written by scripts/build-kong-validators.mjs
  let built: Record<string, unknown>;
  try {
    built = (await import(file)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (built.schemasDigest !== kongSchemasDigest()) return undefined;
  return built as Record<string, ValidateFunction>;
}

/** The same validators compiled now. */
export async function compileKongValidators(): Promise<Map<object, ValidateFunction>> {
  const { Ajv } = await import('ajv');
  const ajv = new Ajv(kongAjvOptions);
  ajv.addKeyword(xMessage);
  return new Map([...kongSchemasByName().values()].map((s) => [s, ajv.compile(s)]));
}

const prebuilt = await prebuiltKongValidators();
const byName = kongSchemasByName();
const validators = prebuilt
  ? new Map([...byName].filter(([name]) => typeof prebuilt[name] === 'function').map(([n, s]) => [s, prebuilt[n]]))
  : await compileKongValidators();
if (validators.size !== new Set(byName.values()).size) throw new Error('internal: a Kong schema without its validator');

/** The validator of one of the schemas above. */
export function kongValidator(schema: object): ValidateFunction {
  const v = validators.get(schema);
  if (!v) throw new Error('internal: a Kong schema without a validator');
  return v;
}
