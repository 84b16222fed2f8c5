import { describe, expect, it } from 'vitest';
import { compilePersonalData, MAX_SCAN_CHARS, type PersonalDataConfig } from './personal-data.js';

const config: PersonalDataConfig = {
  detect: ['email', 'phone', 'card'],
  patterns: [{ name: 'employee-id', regex: '\\bEMP-[0-9]{6}\\b' }],
};
const detector = compilePersonalData(config);

function expectEach(texts: string[], expected: string[]) {
  for (const text of texts) expect(detector.detect(text), JSON.stringify(text)).toEqual(expected);
}

describe('compilePersonalData', () => {
  it('lists the names it reports in configuration order, each once', () => {
    expect(detector.names).toEqual(['email', 'phone', 'card', 'employee-id']);
    const d = compilePersonalData({
      detect: ['card', 'email', 'card'],
      patterns: [
        { name: 'email', regex: 'contact:' },
        { name: 'x', regex: 'x' },
      ],
    });
    expect(d.names).toEqual(['card', 'email', 'x']);
    expect(d.detect('contact: x')).toEqual(['email', 'x']);
  });

  it('throws at compile time on a bad pattern, naming it', () => {
    expect(() => compilePersonalData({ detect: [], patterns: [{ name: 'employee-id', regex: 'EMP-(' }] })).toThrow(
      /personal_data pattern "employee-id": invalid regular expression/,
    );
    // valid without the u flag, invalid with it
    expect(() => compilePersonalData({ detect: [], patterns: [{ name: 'brace', regex: 'a{' }] })).toThrow(
      /pattern "brace"/,
    );
    expect(() => compilePersonalData({ detect: [], patterns: [{ name: '', regex: 'a' }] })).toThrow(/name/);
    expect(() => compilePersonalData({ detect: ['ssn' as 'email'], patterns: [] })).toThrow(/unknown detector "ssn"/);
  });

  it('compiles custom patterns with the u flag', () => {
    const d = compilePersonalData({ detect: [], patterns: [{ name: 'ahv', regex: '\\p{Lu}{3}-\\d{4}' }] });
    expect(d.detect('id ÄBC-1234')).toEqual(['ahv']);
    expect(d.detect('id abc-1234')).toEqual([]);
  });

  it('detects nothing when nothing is configured', () => {
    const d = compilePersonalData({ detect: [], patterns: [] });
    expect(d.detect('john@example.com 4111 1111 1111 1111')).toEqual([]);
    expect(d.detectInBody({ a: 'john@example.com' })).toEqual([]);
  });
});

describe('detect', () => {
  it('finds e-mail addresses', () => {
    expectEach(
      [
        'john.doe@example.com',
        'write to first+tag@sub.example.co.uk please',
        'UPPER_case-99@Example.ORG',
        'mailto:x@y.io',
        '<a%b@c-d.net>',
        '"j.o.h.n@mail.example.museum",',
      ],
      ['email'],
    );
  });

  it('finds phone numbers', () => {
    expectEach(
      [
        '+41 44 668 18 00',
        'call (555) 123-4567 today',
        '+14155552671',
        '555-123-4567',
        '555.123.4567',
        '044 668 18 00',
        '0041 44 668 18 00',
        '+44 (0)20 7946 0958',
        '+1 (555) 123-4567',
        '1-800-555-0199',
        '+7 (495) 123-45-67',
        'Phone: 555 123 4567.',
        '+41\u00a044\u00a0668\u00a018\u00a000',
        'tél. 01\u202f23\u202f45\u202f67\u202f89',
      ],
      ['phone'],
    );
  });

  it('finds card numbers that pass the Luhn check', () => {
    expectEach(
      [
        '4111 1111 1111 1111',
        '5500-0000-0000-0004',
        '4111111111111111',
        'amex 3782 822463 10005',
        'card: 4111-1111-1111-1111.',
        '4111 1111 1111 1111 12/26',
        'ref 2026 4111 1111 1111 1111',
        '4222222222222',
        '5500\u00a00000\u00a00000\u00a00004',
      ],
      ['card'],
    );
  });

  it('finds custom patterns', () => {
    expect(detector.detect('employee EMP-123456 asked')).toEqual(['employee-id']);
    expect(detector.detect('EMP-1234567')).toEqual([]);
  });

  it('reports each kind once, in configuration order', () => {
    expect(detector.detect('id EMP-123456, card 4111 1111 1111 1111, mail john@example.com, a@b.io')).toEqual([
      'email',
      'card',
      'employee-id',
    ]);
  });

  it('does not flag ids, dates, timestamps, prices, versions and addresses', () => {
    expectEach(
      [
        '123e4567-e89b-12d3-a456-426614174000',
        '00000000-0000-0000-0000-000000000000',
        '2026-11-21',
        '2026-11-21T10:30:00Z',
        '2026-11-21 12:30:45.123456789',
        '21.11.2026',
        '11/21/2026',
        '11-21-2026',
        '1700000000',
        '1700000000123',
        '1700000000129', // passes Luhn, but no card number starts with 1
        '1234.56',
        'price 1234.56 EUR',
        '$1,234,567.89',
        '4111111111111112',
        '4111 1111 1111 1112',
        '1.2.3.4',
        '10.20.30.40',
        '1.2.3.4.5.6.7.8.9',
        '192.168.100.200',
        'v1.2.3',
        'order #12345678',
        'id=A12345678',
        '12345678',
        '12:30:45',
        'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
        'icon@2x.png',
        'npm i left-pad@1.3.0',
        'user@localhost',
        '@scope/package',
      ],
      [],
    );
  });

  it('scans only the first MAX_SCAN_CHARS of a string', () => {
    const pad = 'x'.repeat(MAX_SCAN_CHARS - 20);
    expect(detector.detect(`${pad} a@example.com`)).toEqual(['email']);
    expect(detector.detect(`${pad}${' '.repeat(20)}a@example.com`)).toEqual([]);
  });

  it('handles inputs that make naive regexes backtrack (a hang would time out)', () => {
    const n = MAX_SCAN_CHARS;
    for (const text of [
      'a'.repeat(n),
      `${'a'.repeat(n)}@`,
      'a@'.repeat(n / 2),
      `a@${'b'.repeat(n)}`,
      `a@${'b.'.repeat(n / 2)}`,
      `a@${'b-'.repeat(n / 2)}`,
      '1'.repeat(n),
      '1 '.repeat(n / 2),
      '1-'.repeat(n / 2),
      '12.'.repeat(n / 3),
      '(1) '.repeat(n / 4),
      '+1 '.repeat(n / 3),
      '(((('.repeat(n / 4),
    ]) {
      expect(Array.isArray(detector.detect(text))).toBe(true);
    }
  });
});

describe('detectInBody', () => {
  it('scans every string value and key', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: [{ type: 'text', text: 'reach me at +41 44 668 18 00' }] },
      ],
      metadata: { 'john@example.com': true, amount: 4111111111111111, note: ['ok', { deep: 'EMP-654321' }] },
    };
    expect(detector.detectInBody(body)).toEqual(['email', 'phone', 'employee-id']);
    expect(detector.detectInBody({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] })).toEqual([]);
  });

  it('does not scan numbers', () => {
    expect(detector.detectInBody({ a: 4111111111111111, b: 41446681800 })).toEqual([]);
  });

  it('stops at the walk depth without failing', () => {
    let shallow: unknown = 'john@example.com';
    for (let i = 0; i < 60; i++) shallow = [shallow];
    expect(detector.detectInBody({ a: shallow })).toEqual(['email']);
    let deep: unknown = 'john@example.com';
    for (let i = 0; i < 100_000; i++) deep = { k: deep };
    expect(detector.detectInBody({ a: deep })).toEqual([]);
  });

  it('survives cycles and odd values', () => {
    const cyclic: Record<string, unknown> = { text: 'call 555-123-4567' };
    cyclic.self = cyclic;
    expect(detector.detectInBody(cyclic)).toEqual(['phone']);
    expect(detector.detectInBody({ a: null, b: undefined, c: true, d: 1n })).toEqual([]);
  });
});
