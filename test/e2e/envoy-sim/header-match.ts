// envoy.config.route.v3.HeaderMatcher as Envoy's HeaderUtility::matchHeaders evaluates it:
// - a repeated header is matched on all its values joined with ",";
// - an ABSENT header (without treat_missing_header_as_empty) matches only `present_match: false`,
//   or, inverted, only `present_match: true`: so `string_match` + `invert_match` does NOT match a
//   missing header, while `present_match: true` + `invert_match: true` does;
// - otherwise the specifier's result is XOR-ed with invert_match.
// Pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`) are matched like any header.
import type { HeaderMatcher } from '../../../common/envoy-api/gen/envoy/config/route/v3/route_components_pb.js';
import type { HeaderMap } from './header-map.js';
import { checkStringMatcher, compileFullMatch, matchString, regexFullMatch } from './string-match.js';

export function matchHeader(headers: HeaderMap, m: HeaderMatcher): boolean {
  const spec = m.headerMatchSpecifier;
  const isPresentMatch = spec.case === 'presentMatch' || spec.case === undefined;
  const present = spec.case === 'presentMatch' ? spec.value : true;
  const joined = headers.getJoined(m.name);
  if (joined === undefined && !m.treatMissingHeaderAsEmpty) {
    return m.invertMatch ? isPresentMatch && present : isPresentMatch && !present;
  }
  const value = joined ?? '';
  let match: boolean;
  switch (spec.case) {
    case undefined:
      match = true;
      break;
    case 'presentMatch':
      match = spec.value;
      break;
    case 'exactMatch':
      match = spec.value === '' || value === spec.value;
      break;
    case 'prefixMatch':
      match = value.startsWith(spec.value);
      break;
    case 'suffixMatch':
      match = value.endsWith(spec.value);
      break;
    case 'containsMatch':
      match = value.includes(spec.value);
      break;
    case 'safeRegexMatch':
      match = regexFullMatch(spec.value, value);
      break;
    case 'rangeMatch': {
      const n = /^-?\d+$/.test(value) ? BigInt(value) : undefined;
      match = n !== undefined && n >= spec.value.start && n < spec.value.end;
      break;
    }
    case 'stringMatch':
      match = matchString(spec.value, value);
      break;
  }
  return match !== m.invertMatch;
}

/** All matchers must match (an empty list matches). */
export function matchHeaders(headers: HeaderMap, matchers: HeaderMatcher[]): boolean {
  return matchers.every((m) => matchHeader(headers, m));
}

export function checkHeaderMatcher(m: HeaderMatcher, where: string): void {
  const spec = m.headerMatchSpecifier;
  if (spec.case === 'stringMatch') checkStringMatcher(spec.value, `${where} header ${m.name}`);
  if (spec.case === 'safeRegexMatch') compileFullMatch(spec.value.regex, `${where} header ${m.name}`);
}
