// gen add-route: appends (or inserts) a route, keeping the rest of the file as written.
import { parseArgs } from 'node:util';
import { isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { EditError, editGatewayFile } from './edit-gateway.js';
import { authNode } from './secure.js';

export const addRouteUsage =
  'gen add-route FILE --name NAME (--exact PATH | --prefix PATH | --regex RE) --backend NAME [--methods GET,POST] [--auth api-key|anonymous|jwt:PROVIDER] [--listener NAME] [--timeout 30s] [--streaming] [--before ROUTE]';

export function addRouteCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      exact: { type: 'string' },
      prefix: { type: 'string' },
      regex: { type: 'string' },
      backend: { type: 'string' },
      methods: { type: 'string' },
      auth: { type: 'string', default: 'api-key' },
      listener: { type: 'string' },
      timeout: { type: 'string' },
      streaming: { type: 'boolean' },
      before: { type: 'string' },
    },
    allowPositionals: true,
  });
  const paths = (['exact', 'prefix', 'regex'] as const).filter((k) => values[k] !== undefined);
  if (positionals.length !== 1 || !values.name || !values.backend || paths.length !== 1) {
    out(`usage: ${addRouteUsage}`);
    return 2;
  }
  const file = positionals[0];
  editGatewayFile(file, (doc) => {
    const routes = doc.get('routes', true) as YAMLSeq;
    if (!isSeq(routes)) throw new EditError('the file has no routes list');
    const route: Record<string, unknown> = { name: values.name };
    if (values.listener) route.listener = values.listener;
    const match: Record<string, unknown> = { path: { [paths[0]]: values[paths[0]] } };
    if (values.methods) match.methods = values.methods.split(',').map((m) => m.trim().toUpperCase());
    route.match = match;
    route.backend = values.backend;
    if (values.timeout) route.timeout = values.timeout;
    if (values.streaming) route.streaming = true;
    const node = doc.createNode(route) as YAMLMap;
    node.set('auth', authNode(doc, values.auth === 'api-key' || !values.auth ? 'api-key' : values.auth));
    const matchNode = node.get('match', true) as unknown as YAMLMap;
    (matchNode.get('path', true) as unknown as YAMLMap).flow = true;
    let at = routes.items.length;
    if (values.before) {
      at = routes.items.findIndex((r) => (r as { get?: (k: string) => unknown }).get?.('name') === values.before);
      if (at < 0) throw new EditError(`no route named "${values.before}"`);
    }
    routes.items.splice(at, 0, node);
  });
  out(`gen add-route: added route "${values.name}" to ${file}`);
  return 0;
}
