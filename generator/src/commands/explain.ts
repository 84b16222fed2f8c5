// gen explain: which route, policy, identity, limits and backends one request would get, from the
// gateway file alone (nothing is started, no token is verified).
import { parseArgs } from 'node:util';
import { parseConfigFile } from '../../../ratelimit-service/src/config/load.js';
import { compileGateway, outputFiles } from '../compile.js';
import { loadGatewaySource, locate } from '../config/source.js';
import { formatDiagnostic, GatewayError } from '../errors.js';
import { parseRequestLine, RequestSyntaxError, requestSyntax } from './explain-request.js';
import { ExplainInputError, type Explanation, explainRequest } from './explain-simulate.js';

export const explainUsage = `usage: gen explain GATEWAY.yaml --request 'REQUEST' [--format text|json] [--now DATE]
  REQUEST: ${requestSyntax}
  Tells which listener, route, ext-authz policy, identity, limits and backends apply, and the
  verdict (allowed, denied with ext-authz's status and message, or 404), without starting anything.
  model= sets the body field "model"; a POST/PUT/PATCH is taken to carry a JSON body with the
  fields given. --now sets the time API-key expiry is checked against (default: now).`;

/** Aligned `key: value` lines, then the verdict. */
export function formatExplanation(e: Explanation): string[] {
  const width = Math.max(...e.lines.map(([k]) => k.length)) + 2;
  return [...e.lines.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`), '', e.verdict.text];
}

export async function explainCommand(args: string[], out: (line: string) => void): Promise<number> {
  let values: { request?: string; format?: string; now?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        request: { type: 'string', short: 'r' },
        format: { type: 'string', default: 'text' },
        now: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    }));
  } catch (e) {
    out(`gen explain: ${(e as Error).message}`);
    out(explainUsage);
    return 2;
  }
  if (values.help) {
    out(explainUsage);
    return 0;
  }
  const usage = (message: string) => {
    out(`gen explain: ${message}`);
    out(explainUsage);
    return 2;
  };
  if (positionals.length !== 1) return usage('give exactly one gateway file');
  if (values.request === undefined) return usage('--request is required');
  if (values.format !== 'text' && values.format !== 'json')
    return usage(`--format must be text or json, not "${values.format}"`);
  let nowMs = Date.now();
  if (values.now !== undefined) {
    nowMs = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(values.now) ? `${values.now}T00:00:00Z` : values.now);
    if (Number.isNaN(nowMs)) return usage(`--now: not a date: "${values.now}"`);
  }

  let request: ReturnType<typeof parseRequestLine>;
  try {
    request = parseRequestLine(values.request);
  } catch (e) {
    if (e instanceof RequestSyntaxError) return usage(`--request: ${e.message}`);
    throw e;
  }

  const file = positionals[0];
  let explanation: Explanation;
  try {
    const src = loadGatewaySource(file);
    const { model, files } = compileGateway(src);
    const ratelimit = parseConfigFile(outputFiles.ratelimit, files.get(outputFiles.ratelimit)!);
    explanation = explainRequest(
      {
        model,
        ratelimit,
        nowMs,
        where: (i) => `${file}:${locate(src, ['routes', i]).line}`,
      },
      request,
    );
  } catch (e) {
    if (e instanceof GatewayError) {
      for (const d of e.diagnostics) out(formatDiagnostic(d));
      out(`gen explain: ${file}: ${e.diagnostics.length} problem(s)`);
      return 1;
    }
    if (e instanceof ExplainInputError) return usage(e.message);
    throw e;
  }

  if (values.format === 'json') out(JSON.stringify(explanation.json, null, 2));
  else for (const l of formatExplanation(explanation)) out(l);
  return 0;
}
