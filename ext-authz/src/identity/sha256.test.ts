import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, sha256 } from './sha256.js';

describe('sha256', () => {
  it('is the SHA-256 of the UTF-8 text, as hex and as base64url', () => {
    for (const text of ['', 'aigw_demo_agents_k8Qm2VZt7RfX4pLw9sNc', 'ünïcödé 🔑', 'x'.repeat(5000)]) {
      const expected = createHash('sha256').update(text, 'utf8').digest();
      expect(sha256(text, 'hex')).toBe(expected.toString('hex'));
      expect(sha256(text, 'base64url')).toBe(expected.toString('base64url'));
    }
  });
});

describe('constantTimeEqual', () => {
  it('tells equal strings from strings that differ anywhere, or in length', () => {
    const d = sha256('a', 'hex');
    expect(constantTimeEqual(d, `${d}`)).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
    for (const i of [0, 31, 63]) {
      const other = d.slice(0, i) + (d[i] === '0' ? '1' : '0') + d.slice(i + 1);
      expect(constantTimeEqual(d, other)).toBe(false);
    }
    expect(constantTimeEqual(d, d.slice(0, 63))).toBe(false);
    expect(constantTimeEqual(d.slice(0, 63), d)).toBe(false);
  });
});
