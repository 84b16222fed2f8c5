// Renders the gateway.yaml reference (docs/gateway-yaml.md) from the JSON Schema, so the two
// cannot drift apart: a test compares the committed file with this rendering.
import { gatewaySchema } from '../config/schema.js';

type S = Record<string, unknown>;

function typeOf(s: S): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${v}\``).join(' \\| ');
  if (Array.isArray(s.anyOf)) return (s.anyOf as S[]).map(typeOf).join(' or ');
  if (s.type === 'array') return `list of ${typeOf((s.items as S) ?? {})}`;
  if (s.type === 'object') return s.properties ? 'map' : 'map of names to values';
  if (s['x-hint']) return `${s.type}: ${s['x-hint']}`;
  return String(s.type ?? 'any');
}

function rows(s: S, prefix: string, out: string[]): void {
  const props = (s.properties ?? {}) as Record<string, S>;
  const required = new Set((s.required as string[] | undefined) ?? []);
  for (const [name, p] of Object.entries(props)) {
    const path = `${prefix}${name}`;
    const desc = String(p.description ?? '').replace(/\|/g, '\\|');
    out.push(`| \`${path}\` | ${typeOf(p)} | ${required.has(name) ? 'yes' : ''} | ${desc} |`);
    const item = p.type === 'array' ? (p.items as S) : p;
    const anyObject = Array.isArray(p.anyOf) ? (p.anyOf as S[]).find((x) => x.type === 'object') : undefined;
    const child = anyObject ?? item;
    if (child && child.type === 'object' && child.properties)
      rows(child, `${path}${p.type === 'array' ? '[]' : ''}.`, out);
  }
}

export function renderSchemaReference(): string {
  const out = [
    '# gateway.yaml reference',
    '',
    '<!-- Generated from generator/src/config/schema.ts by `npm run golden:update`; a test keeps it in sync. -->',
    '',
    'One file describes the whole gateway. `gen validate gateway.yaml` checks it against this schema and',
    'the rules that need several fields at once (references, duplicates, routes that can never match),',
    'and reports every problem as `file:line:column: field: message`. Durations are written like `250ms`,',
    '`5s`, `2m`, `1h`; rates like `10/minute` (units: second, minute, hour, day).',
    '',
  ];
  for (const [name, p] of Object.entries(gatewaySchema.properties as Record<string, S>)) {
    out.push(`## \`${name}\``, '');
    if (p.description) out.push(String(p.description), '');
    const lines: string[] = [];
    const item = p.type === 'array' ? (p.items as S) : p;
    if (item.type === 'object' && item.properties) rows(item, p.type === 'array' ? `${name}[].` : `${name}.`, lines);
    if (lines.length) out.push('| field | type | required | meaning |', '| --- | --- | --- | --- |', ...lines, '');
    else out.push(`Type: ${typeOf(p)}.`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
