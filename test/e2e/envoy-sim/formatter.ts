// Envoy's substitution formatter, for header values (request_headers_to_add, header_mutation):
// `%REQ(name)%` is the first value of request header `name` (case-insensitive; `%REQ(a?b)%` falls
// back to b, `%REQ(name):N%` truncates to N characters), an absent header gives "" (header
// formatters omit empty values), `%%` is a literal "%". Other commands are refused at construction,
// so a config using one fails loudly instead of being mis-simulated.
import { SimUnsupportedError } from './bootstrap.js';
import type { HeaderMap } from './header-map.js';

export interface FormatContext {
  requestHeaders: HeaderMap;
  /** The downstream remote address (after XFF processing). */
  remoteAddress: string;
}

type Part = string | ((ctx: FormatContext) => string);

const command = /%([A-Z_0-9]+)(?:\(([^)]*)\))?(?::(\d+))?%/y;

export function compileFormat(format: string, where = 'formatter'): (ctx: FormatContext) => string {
  const parts: Part[] = [];
  let text = '';
  let i = 0;
  while (i < format.length) {
    if (format[i] !== '%') {
      text += format[i++];
      continue;
    }
    if (format[i + 1] === '%') {
      text += '%';
      i += 2;
      continue;
    }
    command.lastIndex = i;
    const m = command.exec(format);
    if (!m) throw new SimUnsupportedError(where, `format ${JSON.stringify(format)} (unterminated %)`);
    if (text) parts.push(text);
    text = '';
    parts.push(operator(m[1], m[2], m[3] === undefined ? undefined : Number(m[3]), where));
    i = command.lastIndex;
  }
  if (text) parts.push(text);
  return (ctx) => parts.map((p) => (typeof p === 'string' ? p : p(ctx))).join('');
}

function operator(name: string, arg: string | undefined, max: number | undefined, where: string): Part {
  const cut = (s: string) => (max === undefined ? s : s.slice(0, max));
  switch (name) {
    case 'REQ': {
      if (!arg) throw new SimUnsupportedError(where, '%REQ()% without a header name');
      const [main, alt] = arg.split('?');
      return (ctx) => cut(ctx.requestHeaders.get(main) ?? (alt ? ctx.requestHeaders.get(alt) : undefined) ?? '');
    }
    case 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT':
      return (ctx) => cut(ctx.remoteAddress);
    default:
      throw new SimUnsupportedError(where, `the %${name}% formatter command`);
  }
}
