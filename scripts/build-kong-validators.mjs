// Compiles the Kong output's schemas (generator/src/validate/kong-schemas/) into one standalone
// validator module (ajv's standalone code, one export per schema) at build time, so that gen does
// not compile them on every run. kong-validators.test.ts holds them to the schemas compiled at run time.
import fs from 'node:fs';
import { Ajv } from 'ajv';
import { esmStandaloneCode } from './lib/ajv-standalone.mjs';

const dist = new URL('../dist/generator/src/validate/kong-schemas/', import.meta.url);
const { kongAjvOptions, xMessage, kongSchemasByName, kongSchemasDigest } = await import(
  new URL('compiled.js', dist).href
);
const ajv = new Ajv({ ...kongAjvOptions, code: { source: true, esm: true } });
ajv.addKeyword(xMessage);
const exports = {};
for (const [name, schema] of kongSchemasByName()) {
  ajv.addSchema(schema, name);
  exports[name] = name;
}
const code = esmStandaloneCode(ajv, exports);
// The schemas they come from: compiled.ts uses them only while the schemas are still these.
const digest = `\nexport const schemasDigest = ${JSON.stringify(kongSchemasDigest())};\n`;
fs.writeFileSync(new URL('validators.js', dist), code + digest);
