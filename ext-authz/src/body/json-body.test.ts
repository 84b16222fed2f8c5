import { describe, expect, it } from 'vitest';
import { MAX_HEADER_FIELD_BYTES, MAX_JSON_DEPTH, parseJsonBody, topLevelString } from './json-body.js';

const bytes = (s: string) => new TextEncoder().encode(s);

function nested(depth: number): string {
  // depth 1 is the top-level object; alternate arrays and objects inside it
  let inner = '1';
  for (let d = depth; d > 1; d--) inner = d % 2 ? `{"k":${inner}}` : `[${inner}]`;
  return `{"a":${inner}}`;
}

describe('parseJsonBody', () => {
  it('parses a JSON object from a string or from bytes', () => {
    const text = '{"model":"gpt-4o","messages":[{"role":"user","content":"hé"}]}';
    const expected = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hé' }] };
    expect(parseJsonBody(text, 1024)).toEqual({ ok: true, value: expected });
    expect(parseJsonBody(bytes(text), 1024)).toEqual({ ok: true, value: expected });
    expect(parseJsonBody(' \n{}\t', 16)).toEqual({ ok: true, value: {} });
  });

  it('ignores a leading byte order mark', () => {
    expect(parseJsonBody(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{"a":1}')]), 100)).toEqual({
      ok: true,
      value: { a: 1 },
    });
    expect(parseJsonBody('\ufeff{"a":1}', 100)).toEqual({ ok: true, value: { a: 1 } });
  });

  it('rejects what is not JSON', () => {
    for (const text of ['{"a":', 'not json', '{"a":1}}', "{'a':1}", '{"a":1,}', '   ']) {
      expect(parseJsonBody(text, 1024), text).toEqual({ ok: false, reason: 'body is not valid JSON' });
    }
    expect(parseJsonBody('', 1024)).toEqual({ ok: false, reason: 'body is empty' });
    expect(parseJsonBody(new Uint8Array(), 1024)).toEqual({ ok: false, reason: 'body is empty' });
  });

  it('rejects JSON that is not an object', () => {
    for (const text of ['[]', '[{"a":1}]', '"x"', '1', 'null', 'true']) {
      expect(parseJsonBody(text, 1024), text).toEqual({ ok: false, reason: 'body must be a JSON object' });
    }
  });

  it('rejects a body larger than maxBytes, counting UTF-8 bytes', () => {
    const text = '{"a":"é"}'; // 10 bytes, 9 UTF-16 units
    expect(parseJsonBody(text, 10).ok).toBe(true);
    expect(parseJsonBody(bytes(text), 10).ok).toBe(true);
    expect(parseJsonBody(text, 9)).toEqual({ ok: false, reason: 'body larger than 9 bytes' });
    expect(parseJsonBody(bytes(text), 9)).toEqual({ ok: false, reason: 'body larger than 9 bytes' });
    expect(parseJsonBody('{}', Number.NaN).ok).toBe(false);
    expect(parseJsonBody(`{"a":"${'x'.repeat(300_000)}"}`, 262_144)).toEqual({
      ok: false,
      reason: 'body larger than 262144 bytes',
    });
  });

  it('rejects bytes that are not UTF-8 and strings with an unpaired surrogate', () => {
    const notUtf8 = [
      [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d], // {"a":"\xff"}
      [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d], // overlong "/"
      [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d], // encoded surrogate
      [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d], // truncated sequence
    ];
    for (const b of notUtf8) {
      expect(parseJsonBody(new Uint8Array(b), 100)).toEqual({ ok: false, reason: 'body is not UTF-8' });
    }
    expect(parseJsonBody('{"a":"\ud800"}', 100)).toEqual({ ok: false, reason: 'body is not UTF-8' });
    // An escaped surrogate is valid JSON text; what it decodes to is the caller's concern.
    expect(parseJsonBody('{"a":"\\ud800"}', 100)).toEqual({ ok: true, value: { a: '\ud800' } });
    expect(parseJsonBody('{"a":"😀"}', 100)).toEqual({ ok: true, value: { a: '😀' } });
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and rejects more`, () => {
    expect(parseJsonBody(nested(MAX_JSON_DEPTH), 10_000).ok).toBe(true);
    expect(parseJsonBody(nested(MAX_JSON_DEPTH + 1), 10_000)).toEqual({
      ok: false,
      reason: 'body is nested deeper than 64 levels',
    });
    const arrays = `{"a":${'['.repeat(63)}${']'.repeat(63)}}`;
    expect(parseJsonBody(arrays, 10_000).ok).toBe(true);
    expect(parseJsonBody(`{"a":${'['.repeat(64)}${']'.repeat(64)}}`, 10_000).ok).toBe(false);
  });

  it('rejects very deep nesting without parsing it or overflowing the stack', () => {
    const n = 1_000_000;
    const deep = `{"a":${'['.repeat(n)}${']'.repeat(n)}}`;
    expect(parseJsonBody(deep, 4 * n)).toEqual({ ok: false, reason: 'body is nested deeper than 64 levels' });
    const unbalanced = `{"a":${'{"b":'.repeat(n)}`;
    expect(parseJsonBody(unbalanced, 8 * n).ok).toBe(false);
  });

  it('does not count brackets inside strings, including after escaped quotes and backslashes', () => {
    const manyBrackets = '['.repeat(1000);
    expect(parseJsonBody(JSON.stringify({ a: manyBrackets, b: `\\"${manyBrackets}` }), 10_000)).toEqual({
      ok: true,
      value: { a: manyBrackets, b: `\\"${manyBrackets}` },
    });
    // a string ending in a backslash: the quote after it closes the string
    const ok = `{"s":"\\\\","a":${'['.repeat(63)}${']'.repeat(63)}}`;
    expect(parseJsonBody(ok, 10_000).ok).toBe(true);
    const tooDeep = `{"s":"\\\\\\"","a":${'['.repeat(64)}${']'.repeat(64)}}`;
    expect(parseJsonBody(tooDeep, 10_000)).toEqual({ ok: false, reason: 'body is nested deeper than 64 levels' });
  });

  it('keeps the last of duplicate keys and never touches the prototype', () => {
    const r = parseJsonBody('{"model":"a","model":"b","__proto__":{"admin":true}}', 100);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.model).toBe('b');
    expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
    expect((r.value as { admin?: boolean }).admin).toBeUndefined();
  });
});

describe('topLevelString', () => {
  const body = {
    model: 'gpt-4o',
    n: 4,
    o: { model: 'x' },
    a: ['x'],
    nul: null,
    t: true,
    empty: '',
    jp: 'モデル',
    inner: 'a b',
  };

  it('returns a top-level string field', () => {
    expect(topLevelString(body, 'model')).toEqual({ ok: true, value: 'gpt-4o' });
    expect(topLevelString(body, 'empty')).toEqual({ ok: true, value: '' });
    expect(topLevelString(body, 'jp')).toEqual({ ok: true, value: 'モデル' });
    expect(topLevelString(body, 'inner')).toEqual({ ok: true, value: 'a b' });
  });

  it('returns undefined for an absent, inherited or non-string field', () => {
    for (const field of ['missing', 'n', 'o', 'a', 'nul', 't', 'constructor', 'toString', '__proto__']) {
      expect(topLevelString(body, field), field).toEqual({ ok: true, value: undefined });
    }
  });

  it('rejects a value that cannot be put into a header', () => {
    const bad = [
      'gpt-4o\r\nx-aigw-client: admin',
      'gpt\n',
      'gpt\r',
      'gpt\u0000',
      'a\tb',
      'a\u007fb',
      'a\u001bb',
      ' gpt-4o',
      'gpt-4o ',
      '\ud800',
      'x'.repeat(MAX_HEADER_FIELD_BYTES + 1),
      'é'.repeat(MAX_HEADER_FIELD_BYTES / 2 + 1),
    ];
    for (const value of bad) {
      expect(topLevelString({ model: value }, 'model'), JSON.stringify(value)).toEqual({
        ok: false,
        reason: 'field model is not a valid header value',
      });
    }
    expect(topLevelString({ model: 'x'.repeat(MAX_HEADER_FIELD_BYTES) }, 'model').ok).toBe(true);
    expect(topLevelString({ model: 'é'.repeat(MAX_HEADER_FIELD_BYTES / 2) }, 'model').ok).toBe(true);
  });

  it('works on a parsed body with escaped control characters', () => {
    const parsed = parseJsonBody('{"agent_type":"research\\r\\nx-evil: 1","model":"gpt-4o"}', 1000);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(topLevelString(parsed.value, 'agent_type')).toEqual({
      ok: false,
      reason: 'field agent_type is not a valid header value',
    });
    expect(topLevelString(parsed.value, 'model')).toEqual({ ok: true, value: 'gpt-4o' });
  });
});
