// Compiles gateway.yaml's JSON Schema into a standalone validator module (ajv's standalone code)
// at build time, so that gen does not compile the schema on every run (about 0.15 s).
// generator/src/config/schema-check.ts loads it when it is there and compiles the schema itself
// otherwise (tests that run the TypeScript sources); gateway-validator.test.ts holds the two to the
// same errors.
import fs from 'node:fs';
import { Ajv } from 'ajv';
import { esmStandaloneCode } from './lib/ajv-standalone.mjs';

const dist = new URL('../dist/generator/src/config/', import.meta.url);
const { gatewaySchema } = await import(new URL('schema.js', dist).href);
const { ajvOptions, xHint } = await import(new URL('schema-validator-options.js', dist).href);
const ajv = new Ajv({ ...ajvOptions, code: { source: true, esm: true } });
ajv.addKeyword(xHint);
const validate = ajv.compile(gatewaySchema);
fs.writeFileSync(new URL('gateway-schema-validate.js', dist), esmStandaloneCode(ajv, validate));
