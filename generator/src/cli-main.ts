// gen: compiles a gateway.yaml into everything Envoy, the rate-limit service and ext-authz need.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { keyDigest, newApiKey } from '../../ext-authz/src/identity/api-keys.js';
import { compileGateway } from './compile.js';
import { loadGatewaySource } from './config/source.js';
import { formatDiagnostic, GatewayError } from './errors.js';
import { validateEnvoyBootstrap } from './validate/envoy.js';
import { formatProblem } from './validate/problem.js';
import { writeOutputsAtomically } from './write.js';

const usage = `usage:
  gen build GATEWAY.yaml [--out DIR]     compile into DIR (default out/): envoy/, ratelimit/, ext-authz/
  gen validate GATEWAY.yaml              check a gateway file and everything it would generate
  gen validate --envoy ENVOY.yaml        strictly check any Envoy v3 bootstrap file
  gen key create --client NAME [--expires DATE]
                                         print a new API key (once) and the line for gateway.yaml
  gen --help`;

class UsageError extends Error {}

function build(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: 'string', short: 'o' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError('gen build takes exactly one gateway file');
  const out = values.out ?? 'out';
  const result = compileGateway(loadGatewaySource(positionals[0]));
  writeOutputsAtomically(out, result.files);
  const m = result.model;
  console.log(
    `gen build: ${positionals[0]} → ${out}/ (${[...result.files.keys()].join(', ')}): ${m.listeners.length} listener(s), ${m.routes.length} route(s), ${m.backends.length} backend(s), ${m.limits.length} limit(s)`,
  );
  return 0;
}

function validate(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: { envoy: { type: 'string' } }, allowPositionals: true });
  if (values.envoy) {
    let doc: unknown;
    try {
      doc = parseYaml(fs.readFileSync(values.envoy, 'utf8'));
    } catch (e) {
      console.error(`${values.envoy}: ${(e as Error).message.split('\n')[0]}`);
      return 1;
    }
    const problems = validateEnvoyBootstrap(doc, values.envoy);
    for (const p of problems) console.error(formatProblem(p));
    console.log(
      `gen validate: ${values.envoy}: ${problems.length ? `${problems.length} problem(s)` : 'valid Envoy v3 bootstrap'}`,
    );
    return problems.length ? 1 : 0;
  }
  if (positionals.length !== 1) throw new UsageError('gen validate takes one gateway file, or --envoy FILE');
  compileGateway(loadGatewaySource(positionals[0]));
  console.log(`gen validate: ${positionals[0]}: valid`);
  return 0;
}

function key(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    options: { client: { type: 'string' }, expires: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals[0] !== 'create' || positionals.length !== 1)
    throw new UsageError('usage: gen key create --client NAME [--expires DATE]');
  if (!values.client || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(values.client))
    throw new UsageError('--client needs a client name like "hr-portal"');
  if (values.expires !== undefined && Number.isNaN(Date.parse(values.expires)))
    throw new UsageError(`--expires: not a date: "${values.expires}"`);
  const k = newApiKey();
  console.log(`API key for ${values.client} (shown once; give it to the client over a safe channel):\n\n  ${k}\n`);
  console.log('Add to the client in gateway.yaml (only the digest is stored):\n');
  console.log(`      - sha256: ${keyDigest(k)}${values.expires ? `\n        expires: ${values.expires}` : ''}`);
  return 0;
}

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'build':
        return build(rest);
      case 'validate':
        return validate(rest);
      case 'key':
        return key(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(usage);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof GatewayError) {
      for (const d of e.diagnostics) console.error(formatDiagnostic(d));
      console.error(`gen ${command}: ${e.diagnostics.length} problem(s)`);
      return 1;
    }
    if (e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`gen: ${(e as Error).message}\n${usage}`);
      return 2;
    }
    throw e;
  }
}
