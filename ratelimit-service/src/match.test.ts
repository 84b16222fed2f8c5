import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config/load.js';
import { type Entry, matchLimit } from './match.js';

const domain = loadConfig(path.resolve(import.meta.dirname, '../test/config/basic.yaml')).domains.get('test-domain')!;
const e = (...pairs: [string, string][]): Entry[] => pairs.map(([key, value]) => ({ key, value }));
const limitOf = (entries: Entry[]) => {
  const m = matchLimit(domain, entries, '');
  return m && (m.rule.unlimited ? 'unlimited' : `${m.rule.requestsPerUnit}/${m.rule.unit}`);
};

describe('matchLimit (envoyproxy/ratelimit tree walk)', () => {
  it('prefers the exact value, then the key-only default; an explicit value without limit is whitelisted', () => {
    expect(limitOf(e(['key1', 'value1']))).toBe('5/second');
    expect(limitOf(e(['key1', 'other']))).toBe('10/minute');
    expect(limitOf(e(['key1', 'trusted']))).toBeUndefined();
  });

  it('walks nested descriptors; a parent without a limit gives none; a parent limit is not inherited', () => {
    expect(limitOf(e(['key2', 'value2'], ['subkey', 'x']))).toBe('100/hour');
    expect(limitOf(e(['key2', 'value2'], ['subkey', 'vip']))).toBe('unlimited');
    expect(limitOf(e(['key2', 'value2']))).toBeUndefined();
    expect(limitOf(e(['key3', 'a']))).toBe('1000/day');
    expect(limitOf(e(['key3', 'a'], ['subkey', 'b']))).toBe('3/minute');
    expect(limitOf(e(['key3', 'a'], ['other', 'b']))).toBeUndefined();
  });

  it('gives no limit to a request deeper than the config', () => {
    expect(limitOf(e(['key1', 'value1'], ['deeper', 'x']))).toBeUndefined();
  });

  it('tries wildcards in config order, first match wins, before the key-only default', () => {
    expect(limitOf(e(['path', '/api/v1/chat']))).toBe('20/minute');
    expect(limitOf(e(['path', '/other']))).toBe('40/minute');
  });

  it('builds envoyproxy/ratelimit counter keys (runtime values; the pattern where share_threshold)', () => {
    expect(matchLimit(domain, e(['key3', 'a'], ['subkey', 'b']), 'p:')!.counterKey).toBe(
      'p:test-domain_key3_a_subkey_b_',
    );
    expect(matchLimit(domain, e(['files', '/files/a.txt']), '')!.counterKey).toBe('test-domain_files_/files/*_');
    expect(matchLimit(domain, e(['path', '/api/x']), '')!.counterKey).toBe('test-domain_path_/api/x_');
  });

  it('labels metrics with the config path, never request values', () => {
    expect(matchLimit(domain, e(['key1', '203.0.113.7']), '')!.statsKey).toBe('test-domain.key1');
    expect(matchLimit(domain, e(['path', '/api/x']), '')!.statsKey).toBe('test-domain.path_/api/*');
  });
});
