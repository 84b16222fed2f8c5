import { describe, expect, it } from 'vitest';
import { HeaderMatcherSchema } from '../../../common/envoy-api/gen/envoy/config/route/v3/route_components_pb.js';
import { HeaderMap } from './header-map.js';
import { matchHeader } from './header-match.js';
import { fragment } from './proto-fragment.js';

const m = (json: unknown) => fragment(HeaderMatcherSchema, json);
const h = (...entries: [string, string][]) => HeaderMap.fromEntries(entries);

describe('header matching (Envoy HeaderUtility::matchHeaders)', () => {
  const post = h([':method', 'POST'], ['x-model', 'gpt-4o']);

  it('matches string_match exact / prefix / suffix / contains / safe_regex, case-sensitively unless ignore_case', () => {
    expect(matchHeader(post, m({ name: ':method', string_match: { exact: 'POST' } }))).toBe(true);
    expect(matchHeader(post, m({ name: ':method', string_match: { exact: 'post' } }))).toBe(false);
    expect(matchHeader(post, m({ name: ':method', string_match: { exact: 'post', ignore_case: true } }))).toBe(true);
    expect(matchHeader(post, m({ name: 'x-model', string_match: { prefix: 'gpt-' } }))).toBe(true);
    expect(matchHeader(post, m({ name: 'x-model', string_match: { suffix: '4o' } }))).toBe(true);
    expect(matchHeader(post, m({ name: 'x-model', string_match: { contains: 't-4' } }))).toBe(true);
    expect(matchHeader(post, m({ name: 'x-model', string_match: { contains: 'T-4' } }))).toBe(false);
  });

  it('runs safe_regex as a FULL match', () => {
    const re = (regex: string) => m({ name: 'x-model', string_match: { safe_regex: { regex } } });
    expect(matchHeader(post, re('^(?:gpt-4o|gpt-4o-mini)$'))).toBe(true);
    expect(matchHeader(post, re('gpt'))).toBe(false);
    expect(matchHeader(post, re('gpt.*'))).toBe(true);
    expect(matchHeader(h(['x-model', 'gpt-4o-mini']), re('gpt-4o|gpt-4o-mini'))).toBe(true);
    expect(matchHeader(h(['x-model', 'xgpt-4o']), re('gpt-4o|gpt-4o-mini'))).toBe(false);
  });

  it('present_match and its inversion', () => {
    const present = m({ name: 'x-aigw-dispatch', present_match: true });
    const absent = m({ name: 'x-aigw-dispatch', present_match: true, invert_match: true });
    expect(matchHeader(h(), present)).toBe(false);
    expect(matchHeader(h(), absent)).toBe(true);
    expect(matchHeader(h(['x-aigw-dispatch', '']), present)).toBe(true);
    expect(matchHeader(h(['x-aigw-dispatch', 'r']), absent)).toBe(false);
    expect(matchHeader(h(), m({ name: 'x', present_match: false }))).toBe(true);
  });

  it('never matches an absent header with an inverted value matcher (Envoy quirk)', () => {
    expect(matchHeader(h(), m({ name: ':method', string_match: { exact: 'GET' }, invert_match: true }))).toBe(false);
    expect(matchHeader(post, m({ name: ':method', string_match: { exact: 'GET' }, invert_match: true }))).toBe(true);
    expect(matchHeader(post, m({ name: ':method', string_match: { exact: 'POST' }, invert_match: true }))).toBe(false);
  });

  it('treat_missing_header_as_empty matches the empty string', () => {
    expect(matchHeader(h(), m({ name: 'x', string_match: { exact: '' }, treat_missing_header_as_empty: true }))).toBe(
      true,
    );
    expect(matchHeader(h(), m({ name: 'x', string_match: { exact: '' } }))).toBe(false);
  });

  it('joins a repeated header with "," before matching', () => {
    const twice = h(['x-tag', 'a'], ['x-tag', 'b']);
    expect(matchHeader(twice, m({ name: 'x-tag', string_match: { exact: 'a,b' } }))).toBe(true);
    expect(matchHeader(twice, m({ name: 'X-Tag', string_match: { exact: 'a' } }))).toBe(false);
  });

  it('supports the legacy specifiers and range_match', () => {
    expect(matchHeader(post, m({ name: 'x-model', exact_match: 'gpt-4o' }))).toBe(true);
    expect(matchHeader(post, m({ name: 'x-model', prefix_match: 'gpt' }))).toBe(true);
    expect(matchHeader(h(['n', '5']), m({ name: 'n', range_match: { start: 1, end: 5 } }))).toBe(false);
    expect(matchHeader(h(['n', '4']), m({ name: 'n', range_match: { start: 1, end: 5 } }))).toBe(true);
    expect(matchHeader(post, m({ name: 'x-model' }))).toBe(true);
  });
});
