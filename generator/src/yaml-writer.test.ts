import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readBack } from './validate/yaml-documents.js';
import { writeYaml } from './yaml-writer.js';

const tricky = [
  '',
  ' leading',
  'trailing ',
  'true',
  'False',
  'yes',
  'no',
  'on',
  'null',
  '~',
  '123',
  '1.5',
  '-7',
  '1e3',
  '0x1F',
  '.inf',
  '10:30',
  '@type',
  '*alias',
  '&anchor',
  '!tag',
  '%REQ(x-aigw-credential-openai)%',
  'a: b',
  'a #b',
  '#comment',
  '- item',
  '[a]',
  '{a}',
  "'quoted'",
  '"dq"',
  'multi\nline',
  'tab\tand\\back',
  'ünïcödé',
  'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  '^(?:gpt-4o|gpt-4o-mini)$',
  '/v1/chat/completions',
  'Bearer realm="x"',
  ':method',
  '0.250s',
  '%DYNAMIC_METADATA(envoy.filters.http.ext_authz:client)%',
];

describe('writeYaml', () => {
  it('round-trips every tricky string exactly, as a value and as a key', () => {
    for (const s of tricky) {
      expect(parse(writeYaml({ v: s }))).toEqual({ v: s });
      expect(parse(writeYaml({ [s]: 1 }))).toEqual({ [s]: 1 });
      expect(parse(writeYaml({ list: [s] }))).toEqual({ list: [s] });
    }
  });

  it('round-trips nested data: empty maps and lists, lists of lists, numbers, booleans, null', () => {
    const data = {
      a: { b: [{ c: 1, d: [1, 2, [3, []]], e: {} }, 'x', [], {}, null, true, false, 0.25, -3] },
      empty: [],
      none: {},
      deep: [[{ k: 'v' }]],
    };
    expect(parse(writeYaml(data))).toEqual(data);
  });

  it('writes multi-line strings as literal blocks that read back exactly', () => {
    for (const s of [
      'a\nb\n',
      'a\nb',
      'line: with colon\n  indented\n\nblank above\n',
      '# not a comment\n- not a list\n',
    ]) {
      const y = writeYaml({ nested: { text: s } });
      expect(parse(y)).toEqual({ nested: { text: s } });
      expect(y).toMatch(/text: \|/);
    }
    for (const s of [' leading\n', 'trailing \nx', 'a\n\n', '\nfirst empty', 'tab\tin\n'])
      expect(parse(writeYaml({ t: s }))).toEqual({ t: s });
  });

  it('readBack(value) is what the written text reads back as (the validators check that, not the text)', () => {
    const values = [
      { a: undefined, b: [undefined, 1, null], c: { d: undefined, e: 'x\ny\n\n  z\n' }, f: 10n, g: [] },
      JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}'),
      { blocks: ['a\n\nb\n', 'a\n\n\nb', 'x\n  y', 'end \nspace'], tricky: tricky.map((t) => ({ [t]: t })) },
    ];
    for (const v of values) {
      const back = readBack(v);
      expect(back).toEqual(parse(writeYaml(v)));
      expect(Object.keys(back as object)).toEqual(Object.keys(parse(writeYaml(v))));
    }
  });

  it('writes a list item whose fields are all undefined as an empty map', () => {
    expect(parse(writeYaml({ l: [{ a: undefined }, { b: 1 }] }))).toEqual({ l: [{}, { b: 1 }] });
    // Only own fields are written, as readBack reads them: inherited ones make no line either.
    const inherited = { l: [Object.create({ a: 1 })], m: { n: Object.create({ b: 2 }) } };
    expect(parse(writeYaml(inherited))).toEqual({ l: [{}], m: { n: {} } });
    expect(parse(writeYaml(inherited))).toEqual(readBack(inherited));
    expect(writeYaml({})).toBe('{}\n');
  });

  it('starts a list item with the first field written, whatever depth and whatever was skipped', () => {
    const v = {
      l: [
        { a: undefined, b: { c: [{ d: undefined, e: [{ f: 1 }, [{ g: 2 }]] }] } },
        { x: 1, z: 2 },
      ],
    };
    expect(writeYaml(v)).toBe(
      'l:\n  - b:\n      c:\n        - e:\n            - f: 1\n            -\n              - g: 2\n  - x: 1\n    z: 2\n',
    );
    expect(parse(writeYaml(v))).toEqual(readBack(v));
  });

  it('round-trips seeded random nested data, with more distinct keys than a level caches', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const leaf = () => [1, -2.5, true, null, undefined, 'x', tricky[rand(tricky.length)]][rand(7)];
    const gen = (depth: number): unknown => {
      const kind = depth > 5 ? 2 : rand(3);
      if (kind === 0) return Array.from({ length: rand(4) }, () => gen(depth + 1));
      if (kind === 1)
        return Object.fromEntries(Array.from({ length: rand(5) }, () => [`k${rand(9000)}`, gen(depth + 1)]));
      return leaf();
    };
    for (let i = 0; i < 300; i++) {
      const v = { root: gen(0), keys: Object.fromEntries(Array.from({ length: 30 }, () => [`n${rand(20000)}`, i])) };
      expect(parse(writeYaml(v))).toEqual(readBack(v));
    }
  });

  it('writes empty lines of a literal block without indentation', () => {
    expect(writeYaml({ t: 'a\n\nb\n' })).toBe('t: |\n  a\n\n  b\n');
  });

  it('writes plain block YAML for ordinary data', () => {
    expect(writeYaml({ name: 'x', list: [{ a: 1, b: 'two' }, 'three'], port_value: 8080, timeout: '5s' })).toBe(
      'name: x\nlist:\n  - a: 1\n    b: two\n  - three\nport_value: 8080\ntimeout: 5s\n',
    );
  });
});
