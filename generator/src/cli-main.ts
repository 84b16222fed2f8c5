// gen: compiles a gateway.yaml into everything Envoy, the rate-limit service and ext-authz need.
// Commands load what they need when they run (dynamic imports): start-up stays short, and
// `gen --help` does not load the Envoy type registry or the Kubernetes schemas.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { EditError } from './commands/edit-gateway-error.js';
import { formatDiagnostic, GatewayError } from './errors.js';

const usage = `usage:
  gen build GATEWAY.yaml [--out DIR] [-v] compile into DIR (default out/); -v: every warning
  gen validate GATEWAY.yaml              check a gateway file and everything it would generate
  gen validate --envoy ENVOY.yaml        strictly check any Envoy v3 bootstrap file
  gen init [FILE]                        write a commented gateway.yaml to start from
  gen add-route FILE --name N --prefix P --backend B [--auth api-key|anonymous|jwt:P] …
  gen secure FILE --route N (--api-key | --jwt P | --anonymous) [--clients …] [--tenants …]
  gen explain FILE --request 'POST /v1/chat/completions model=gpt-4o key=…'
  gen diff OLD.yaml NEW.yaml | gen diff NEW.yaml --out DIR
  gen metrics URL… [--format table|json]  requests, denials, 429s, latency, tokens per tenant
  gen up [FILE] [--base-port N]          run ext-authz + ratelimit-service (+ Envoy) locally
  gen key create --client NAME [--expires DATE]
                                         print a new API key (once) and the line for gateway.yaml
  gen --help`;

class UsageError extends Error {}

const say = (line: string) => console.log(line);

async function build(args: string[]): Promise<number> {
  const { compileGatewayLoadingTargets } = await import('./compile-pipeline.js');
  const { loadGatewaySource } = await import('./config/source.js');
  const { StagedOutput } = await import('./write.js');
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: 'string', short: 'o' }, verbose: { type: 'boolean', short: 'v' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError('gen build takes exactly one gateway file');
  const out = values.out ?? 'out';
  const src = loadGatewaySource(positionals[0]);
  // Files are written (into a staging folder) while the rest is computed; swapped in only when all
  // is valid. The staging folder appears with the first rendered file: a gateway with errors leaves
  // the disk as it was.
  let staged: InstanceType<typeof StagedOutput> | undefined;
  let result: Awaited<ReturnType<typeof compileGatewayLoadingTargets>>;
  try {
    result = await compileGatewayLoadingTargets(src, {}, (rel, content) => {
      staged ??= new StagedOutput(out);
      staged.add(rel, content);
    });
  } catch (e) {
    await staged?.abort();
    throw e;
  }
  if (!staged) throw new Error('internal: gen build rendered no file');
  await staged.commit();
  const m = result.model;
  const { capWarnings, summarizeWarnings } = await import('./warnings.js');
  const summary = summarizeWarnings(result.warnings);
  for (const w of values.verbose ? summary : capWarnings(summary)) console.error(`warning: ${w}`);
  console.log(
    `gen build: ${positionals[0]} → ${out}/ (${result.files.size} files): ${m.listeners.length} listener(s), ${m.routes.length} route(s), ${m.backends.length} backend(s), ${m.limits.length} limit(s)`,
  );
  if (result.secretCommands.length) {
    console.log(
      'Secrets the manifests expect (create them before applying manifests/; gen never writes their values):',
    );
    for (const c of result.secretCommands) console.log(`  ${c}`);
  }
  return 0;
}

async function validate(args: string[]): Promise<number> {
  const { parse: parseYaml } = await import('yaml');
  const { validateEnvoyBootstrap } = await import('./validate/envoy.js');
  const { formatProblem } = await import('./validate/problem.js');
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
  const { compileGatewayLoadingTargets } = await import('./compile-pipeline.js');
  const { loadGatewaySource } = await import('./config/source.js');
  await compileGatewayLoadingTargets(loadGatewaySource(positionals[0]));
  console.log(`gen validate: ${positionals[0]}: valid`);
  return 0;
}

async function key(args: string[]): Promise<number> {
  const { keyDigest, newApiKey } = await import('../../ext-authz/src/identity/api-keys.js');
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

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'build':
        return await build(rest);
      case 'validate':
        return await validate(rest);
      case 'key':
        return await key(rest);
      case 'init':
        return (await import('./commands/init.js')).initCommand(rest, say);
      case 'add-route':
        return (await import('./commands/add-route.js')).addRouteCommand(rest, say);
      case 'secure':
        return (await import('./commands/secure.js')).secureCommand(rest, say);
      case 'diff':
        return (await import('./commands/diff.js')).diffCommand(rest, say);
      case 'explain':
        return await (await import('./commands/explain.js')).explainCommand(rest, say);
      case 'metrics':
        return await (await import('./commands/metrics.js')).metricsCommand(rest, say);
      case 'up':
        return await (await import('./commands/up.js')).upCommand(rest, say);
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
    if (e instanceof EditError) {
      console.error(`gen ${command}: ${e.message}`);
      return 1;
    }
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
