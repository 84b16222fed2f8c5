import { describe, expect, it } from 'vitest';
import { capWarnings, summarizeWarnings } from './warnings.js';

describe('summarizeWarnings', () => {
  it('merges the same text for several routes of a target, keeps the first order and other warnings', () => {
    expect(
      summarizeWarnings([
        'manifests: ConfigMap x holds 2000000 bytes',
        'kong: route "a": retries is not expressed',
        'kong: route "b": retries is not expressed',
        'gateway-api: route "a": retries is not expressed',
        'kong: route "c": retries is not expressed',
        'kong: route "d": retries is not expressed',
        'kong: route "c": JWT scopes is not expressed',
      ]),
    ).toEqual([
      'manifests: ConfigMap x holds 2000000 bytes',
      'kong: 4 routes ("a", "b", "c" and 1 more): retries is not expressed',
      'gateway-api: route "a": retries is not expressed',
      'kong: route "c": JWT scopes is not expressed',
    ]);
  });

  it('keeps route names with quotes and texts with colons intact', () => {
    expect(summarizeWarnings(['kong: route "x\\"y": limit "l": not expressed'])).toEqual([
      'kong: route "x\\"y": limit "l": not expressed',
    ]);
  });
});

describe('capWarnings', () => {
  it('shows the first lines of each target and counts the rest', () => {
    const lines = [...Array.from({ length: 4 }, (_, i) => `kong: w${i}`), 'manifests: m', 'kong: w4'];
    expect(capWarnings(lines, 2)).toEqual([
      'kong: w0',
      'kong: w1',
      'manifests: m',
      'kong: 3 more warnings not shown (gen build --verbose shows them all)',
    ]);
    expect(capWarnings(lines, 10)).toEqual(lines);
  });
});
