// envoy.type.matcher.v3.StringMatcher and RegexMatcher as Envoy evaluates them. Envoy's regexes are
// RE2 and always match the WHOLE value (RE2::FullMatch); the simulator runs them with JavaScript's
// engine anchored on both ends, after translating the RE2-only named-group syntax.
import type { RegexMatcher } from '../../../common/envoy-api/gen/envoy/type/matcher/v3/regex_pb.js';
import type { StringMatcher } from '../../../common/envoy-api/gen/envoy/type/matcher/v3/string_pb.js';
import { SimUnsupportedError } from './bootstrap.js';

const compiled = new Map<string, RegExp>();

/** Compiles an RE2 pattern for a full match; throws for constructs JavaScript reads differently. */
export function compileFullMatch(pattern: string, where = 'regex'): RegExp {
  const hit = compiled.get(pattern);
  if (hit) return hit;
  if (/\\[CzQE]|\(\?[imsU-]+[):]|\[\[:/.test(pattern))
    throw new SimUnsupportedError(where, `RE2 syntax in ${JSON.stringify(pattern)}`);
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern.replace(/\(\?P</g, '(?<')})$`);
  } catch (e) {
    throw new SimUnsupportedError(where, `regex ${JSON.stringify(pattern)} (${e instanceof Error ? e.message : e})`);
  }
  compiled.set(pattern, re);
  return re;
}

export function regexFullMatch(m: RegexMatcher, value: string): boolean {
  return compileFullMatch(m.regex).test(value);
}

export function matchString(m: StringMatcher, value: string): boolean {
  const p = m.matchPattern;
  // ignore_case has no effect on safe_regex (Envoy documents this).
  const v = m.ignoreCase ? value.toLowerCase() : value;
  const norm = (s: string) => (m.ignoreCase ? s.toLowerCase() : s);
  switch (p.case) {
    case 'exact':
      return v === norm(p.value);
    case 'prefix':
      return v.startsWith(norm(p.value));
    case 'suffix':
      return v.endsWith(norm(p.value));
    case 'contains':
      return v.includes(norm(p.value));
    case 'safeRegex':
      return regexFullMatch(p.value, value);
    default:
      throw new SimUnsupportedError('string matcher', p.case ?? 'an empty match_pattern');
  }
}

/** Validates a matcher up front, so an unsupported one fails at construction, not mid-test. */
export function checkStringMatcher(m: StringMatcher, where: string): void {
  const p = m.matchPattern;
  if (p.case === 'safeRegex') compileFullMatch(p.value.regex, where);
  else if (p.case === undefined || p.case === 'custom') throw new SimUnsupportedError(where, p.case ?? 'empty matcher');
}
