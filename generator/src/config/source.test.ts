import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { GatewayError } from '../errors.js';
import { formatPath, locate, parseGatewaySource } from './source.js';

const text = `version: 1
routes:
  - name: a
    match:
      path: { exact: /x }
`;

describe('gateway source positions', () => {
  const src = parseGatewaySource(text, 'g.yaml');
  it('locates values and keys by path', () => {
    expect(locate(src, ['routes', 0, 'name'])).toEqual({ line: 3, column: 11 });
    expect(locate(src, ['routes', 0, 'match', 'path', 'exact'])).toEqual({ line: 5, column: 22 });
    expect(locate(src, ['routes', 0, 'match'], true)).toEqual({ line: 4, column: 5 });
  });
  it('falls back to the nearest existing ancestor', () => {
    expect(locate(src, ['routes', 0, 'auth'])).toEqual({ line: 3, column: 5 });
  });
  it('formats paths like the messages do', () => {
    expect(formatPath(['routes', 2, 'match', 'headers', 0, 'name'])).toBe('routes[2].match.headers[0].name');
  });
  it('reports YAML errors and duplicate keys with positions', () => {
    expect(() => parseGatewaySource('a: 1\na: 2\n', 'dup.yaml')).toThrow(GatewayError);
    try {
      parseGatewaySource('a: 1\na: 2\n', 'dup.yaml');
    } catch (e) {
      expect((e as GatewayError).diagnostics[0]).toMatchObject({ file: 'dup.yaml', line: 2, column: 1 });
    }
  });
});

describe('fast and position-keeping parsers agree', () => {
  const reference = (t: string) => parseDocument(t, { uniqueKeys: true, merge: false }).toJS({ maxAliasCount: 100 });
  const files = [
    ...fs.readdirSync('examples').map((f) => path.join('examples', f)),
    ...fs.readdirSync('test/golden').map((d) => path.join('test/golden', d, 'gateway.yaml')),
    ...fs.readdirSync('test/errors').map((f) => path.join('test/errors', f)),
  ].filter((f) => f.endsWith('.yaml') && fs.existsSync(f));

  it.each(files)('%s', (file) => {
    const t = fs.readFileSync(file, 'utf8');
    const doc = parseDocument(t, { uniqueKeys: true, merge: false });
    if (doc.errors.length || doc.warnings.length) {
      expect(() => parseGatewaySource(t, file)).toThrow(GatewayError);
      return;
    }
    expect(parseGatewaySource(t, file).value).toEqual(reference(t));
  });

  const snippets: [string, string][] = [
    [
      'scalars of the core schema',
      'a: 012\nb: 0o12\nc: 0x1F\nd: -1.5e3\ne: .inf\nf: -.Inf\ng: .NaN\nh: ~\ni: null\nj: True\nk: FALSE\nl:\n',
    ],
    ['YAML 1.1 forms are strings', 'a: yes\nb: on\nc: 2026-01-01\nd: 1:30\ne: 0b101x\nf: =\n'],
    [
      'quoting and block scalars',
      'a: "x\\ty\\u00e9"\nb: \'it\'\'s\'\nc: |\n  one\n  two\nd: >-\n  folded\n  text\n\ne: "#not a comment" # a comment\n',
    ],
    ['flow collections and odd keys', 'a: {x: 1, "y:z": [1, two, {k: v}]}\n"key with: colon": 1\n? complex\n: 2\n'],
    ['CRLF and unicode', 'a: 1\r\nb: "é ✓ 🚀"\r\nc:\r\n  - x\r\n'],
    ['__proto__ as a key', '__proto__: 1\nconstructor: 2\n'],
    ['empty document', ''],
    ['comment only', '# nothing\n'],
  ];
  it.each(snippets)('%s', (_, t) => {
    expect(parseGatewaySource(t, 'g.yaml').value).toEqual(reference(t));
  });

  it('anchors, aliases and tags go to the position-keeping parser (alias limits included)', () => {
    expect(parseGatewaySource('a: &x [1, 2]\nb: *x\n', 'g.yaml').value).toEqual({ a: [1, 2], b: [1, 2] });
    const bomb = [
      'a: &a [x, x]',
      ...Array.from(
        { length: 12 },
        (_, i) => `${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${`*${i === 0 ? 'a' : 'b'.repeat(i)}, `.repeat(8)}x]`,
      ),
    ].join('\n');
    expect(() => parseGatewaySource(bomb, 'bomb.yaml')).toThrow();
    expect(() => parseGatewaySource('a: !!binary aGk=\n', 't.yaml')).not.toThrow();
    expect(parseGatewaySource('a: 1_000\n', 'n.yaml').value).toEqual({ a: '1_000' });
  });

  it('positions are read when a check asks for one, also after the fast parser', () => {
    const src = parseGatewaySource('version: 1\nroutes:\n  - name: a\n', 'g.yaml');
    expect(locate(src, ['routes', 0, 'name'])).toEqual({ line: 3, column: 11 });
  });

  it("errors the fast parser finds are reported with the position-keeping parser's message", () => {
    for (const t of ['a: [1, 2\n', 'a: 1\n  b: 2\n', 'a: "x\n']) {
      let fastless: GatewayError | undefined;
      try {
        parseGatewaySource(t, 'e.yaml');
      } catch (e) {
        fastless = e as GatewayError;
      }
      const doc = parseDocument(t, { uniqueKeys: true, merge: false, prettyErrors: false });
      expect(fastless?.diagnostics[0].message).toBe(doc.errors[0].message.split('\n')[0]);
    }
  });
});
