import { describe, expect, it } from 'vitest';
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
