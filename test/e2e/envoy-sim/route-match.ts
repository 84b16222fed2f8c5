// Route selection as Envoy's RouteMatcher does it.
//
// Virtual host by :authority (lower-cased): an exact domain first, then the longest `*suffix`
// wildcard, then the longest `prefix*` wildcard, then the `*` virtual host. A wildcard must cover at
// least one character. The port is part of the host: "llm.example.internal:8080" does NOT match the
// domain "llm.example.internal" unless the route configuration sets ignore_port_in_host_matching
// (or the connection manager stripped the port first: strip_any_host_port / strip_matching_host_port).
//
// Then the first route of that virtual host whose match fits: the path specifier (on :path without
// its query and fragment; `path` exact, `prefix`, `path_separated_prefix`, `safe_regex` full match;
// case_sensitive defaults to true and does not apply to regexes) AND every header matcher.
import type {
  Route,
  RouteMatch,
  VirtualHost,
} from '../../../common/envoy-api/gen/envoy/config/route/v3/route_components_pb.js';
import type { RouteConfiguration } from '../../../common/envoy-api/gen/envoy/config/route/v3/route_pb.js';
import { SimConfigError, SimUnsupportedError } from './bootstrap.js';
import type { HeaderMap } from './header-map.js';
import { checkHeaderMatcher, matchHeaders } from './header-match.js';
import { compileFullMatch, regexFullMatch } from './string-match.js';

export interface RouteSelection {
  virtualHost: VirtualHost;
  route: Route;
}

/** The start of the port in a host header, or -1 (IPv6 literals are bracketed, RFC 3986 3.2.2). */
export function portStart(host: string): number {
  const colon = host.lastIndexOf(':');
  if (colon < 0) return -1;
  const v6End = host.lastIndexOf(']');
  return v6End < 0 || v6End < colon ? colon : -1;
}

export function findVirtualHost(rc: RouteConfiguration, authority: string | undefined): VirtualHost | undefined {
  let fallback: VirtualHost | undefined;
  const exact = new Map<string, VirtualHost>();
  const suffixes: [string, VirtualHost][] = [];
  const prefixes: [string, VirtualHost][] = [];
  for (const vh of rc.virtualHosts) {
    for (const raw of vh.domains) {
      const d = raw.toLowerCase();
      if (d === '*') fallback = vh;
      else if (d.startsWith('*')) suffixes.push([d.slice(1), vh]);
      else if (d.endsWith('*')) prefixes.push([d.slice(0, -1), vh]);
      else exact.set(d, vh);
    }
  }
  // Only a default virtual host: Envoy does not even look at the host.
  if (exact.size === 0 && suffixes.length === 0 && prefixes.length === 0) return fallback;
  if (authority === undefined) return undefined;
  let host = authority;
  if (rc.ignorePortInHostMatching) {
    const p = portStart(host);
    if (p >= 0) host = host.slice(0, p);
  }
  host = host.toLowerCase();
  const hit = exact.get(host);
  if (hit) return hit;
  const longestFirst = (a: [string, VirtualHost], b: [string, VirtualHost]) => b[0].length - a[0].length;
  for (const [suffix, vh] of suffixes.sort(longestFirst)) {
    if (suffix.length < host.length && host.endsWith(suffix)) return vh;
  }
  for (const [prefix, vh] of prefixes.sort(longestFirst)) {
    if (prefix.length < host.length && host.startsWith(prefix)) return vh;
  }
  return fallback;
}

/** :path without its query string and fragment (Envoy's PathUtil::removeQueryAndFragment). */
export function pathOnly(path: string): string {
  const cut = path.search(/[?#]/);
  return cut < 0 ? path : path.slice(0, cut);
}

export function routeMatches(match: RouteMatch | undefined, headers: HeaderMap): boolean {
  if (!match) return false;
  const path = pathOnly(headers.get(':path') ?? '');
  const cs = match.caseSensitive ?? true;
  const fold = (s: string) => (cs ? s : s.toLowerCase());
  const spec = match.pathSpecifier;
  let pathOk: boolean;
  switch (spec.case) {
    case 'path':
      pathOk = fold(path) === fold(spec.value);
      break;
    case 'prefix':
      pathOk = fold(path).startsWith(fold(spec.value));
      break;
    case 'pathSeparatedPrefix': {
      const p = fold(path);
      const want = fold(spec.value);
      pathOk = p === want || p.startsWith(`${want}/`);
      break;
    }
    case 'safeRegex':
      pathOk = regexFullMatch(spec.value, path);
      break;
    default:
      throw new SimUnsupportedError('route match', spec.case ?? 'a match without path specifier');
  }
  return pathOk && matchHeaders(headers, match.headers);
}

/** The route Envoy picks for these request headers, or undefined (Envoy then answers 404). */
export function matchRoute(rc: RouteConfiguration, headers: HeaderMap): RouteSelection | undefined {
  const virtualHost = findVirtualHost(rc, headers.get(':authority'));
  if (!virtualHost) return undefined;
  const route = virtualHost.routes.find((r) => routeMatches(r.match, headers));
  return route ? { virtualHost, route } : undefined;
}

/** Rejects route configurations using matching features the simulator does not play. */
export function checkRouteConfiguration(rc: RouteConfiguration): void {
  const where = `route_config ${rc.name}`;
  if (rc.vhds) throw new SimUnsupportedError(where, 'vhds');
  if (rc.clusterSpecifierPlugins.length) throw new SimUnsupportedError(where, 'cluster_specifier_plugins');
  const domains = new Set<string>();
  for (const vh of rc.virtualHosts) {
    const vw = `${where} virtual host ${vh.name}`;
    if (vh.matcher) throw new SimUnsupportedError(vw, 'matcher');
    for (const d of vh.domains) {
      const l = d.toLowerCase();
      if (domains.has(l)) throw new SimConfigError(`${vw}: domain "${d}" is used twice (Envoy rejects this)`);
      domains.add(l);
    }
    if (vh.requireTls) throw new SimUnsupportedError(vw, 'require_tls');
    for (const r of vh.routes) {
      const rw = `${vw} route ${r.name || '(unnamed)'}`;
      const m = r.match;
      if (!m) throw new SimConfigError(`${rw}: no match`);
      if (m.pathSpecifier.case === 'safeRegex') compileFullMatch(m.pathSpecifier.value.regex, rw);
      else if (!['path', 'prefix', 'pathSeparatedPrefix'].includes(m.pathSpecifier.case ?? ''))
        throw new SimUnsupportedError(rw, `path specifier ${m.pathSpecifier.case ?? '(none)'}`);
      if (m.queryParameters.length) throw new SimUnsupportedError(rw, 'query_parameters');
      if (m.runtimeFraction) throw new SimUnsupportedError(rw, 'runtime_fraction');
      if (m.grpc) throw new SimUnsupportedError(rw, 'grpc match');
      if (m.tlsContext) throw new SimUnsupportedError(rw, 'tls_context match');
      if (m.dynamicMetadata.length) throw new SimUnsupportedError(rw, 'dynamic_metadata match');
      for (const h of m.headers) checkHeaderMatcher(h, rw);
    }
  }
}
