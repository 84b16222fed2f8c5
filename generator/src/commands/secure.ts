// gen secure: sets who may call a route (auth), keeping the rest of the file as written.
import { parseArgs } from 'node:util';
import type { Document, Node } from 'yaml';
import { EditError, editGatewayFile, routeNode } from './edit-gateway.js';

export const secureUsage =
  'gen secure FILE --route NAME (--api-key | --jwt PROVIDER[,PROVIDER] | --anonymous) [--clients a,b] [--tenants a,b] [--scopes s1,s2]';

/** `api-key`, `anonymous` or `jwt:PROVIDER` → the auth node of a route. */
export function authNode(
  doc: Document,
  spec: string,
  extra: { clients?: string; tenants?: string; scopes?: string } = {},
): Node {
  if (spec === 'anonymous') return doc.createNode('anonymous');
  const auth: Record<string, unknown> = {};
  for (const part of spec.split('+')) {
    if (part === 'api-key') auth.api_key = true;
    else if (part.startsWith('jwt:')) auth.jwt = part.slice(4).split(',');
    else throw new EditError(`unknown auth "${part}" (use api-key, jwt:PROVIDER or anonymous)`);
  }
  const list = (s?: string) => s?.split(',').map((x) => x.trim());
  if (extra.clients) auth.clients = list(extra.clients);
  if (extra.tenants) auth.tenants = list(extra.tenants);
  if (extra.scopes) auth.scopes = list(extra.scopes);
  const node = doc.createNode(auth) as Node & { flow?: boolean };
  node.flow = true;
  return node;
}

export function secureCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parseArgs({
    args,
    options: {
      route: { type: 'string' },
      'api-key': { type: 'boolean' },
      jwt: { type: 'string' },
      anonymous: { type: 'boolean' },
      clients: { type: 'string' },
      tenants: { type: 'string' },
      scopes: { type: 'string' },
    },
    allowPositionals: true,
  });
  const kinds = [values['api-key'] ? 'api-key' : '', values.jwt ? `jwt:${values.jwt}` : ''].filter(Boolean);
  if (positionals.length !== 1 || !values.route || (values.anonymous ? kinds.length > 0 : kinds.length === 0)) {
    out(`usage: ${secureUsage}`);
    return 2;
  }
  const spec = values.anonymous ? 'anonymous' : kinds.join('+');
  editGatewayFile(positionals[0], (doc) => {
    routeNode(doc, values.route!).set('auth', authNode(doc, spec, values));
  });
  out(
    `gen secure: route "${values.route}" now takes ${spec === 'anonymous' ? 'anonymous calls' : spec.replace('+', ' or ')}`,
  );
  return 0;
}
