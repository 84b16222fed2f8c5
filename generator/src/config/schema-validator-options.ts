// The ajv settings of gateway.yaml's schema check, shared by the check and the build script that
// compiles the schema ahead of time (scripts/build-gateway-validator.mjs).
import type { KeywordDefinition, Options } from 'ajv';

export const ajvOptions: Options = { allErrors: true, strict: true, verbose: true };

/** `x-hint`: a hint for error messages, no validation. */
export const xHint: KeywordDefinition = { keyword: 'x-hint', schemaType: 'string' };
