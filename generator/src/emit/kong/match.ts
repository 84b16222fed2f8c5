// A route's match in Kong's terms: paths (Kong 3 regex paths start with "~" and are anchored at
// the start), headers (values starting with "~*" are regular expressions), hosts, and the same
// in the Ingress form the Kong Ingress Controller reads (pathType, "/~" regex paths, annotations).
import type { GatewayModel, HeaderMatch, Listener, Route, StringMatch } from '../../model/types.js';
import type { Gap } from './types.js';

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a regex has an alternation outside every group and class (`a|b`, not `(a|b)`). */
function topLevelAlternation(regex: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

/** Envoy matches a regex against the whole path: the same regex, anchored at both ends. */
function wholePathRegex(regex: string): string {
  let body = regex.startsWith('^') ? regex.slice(1) : regex;
  const trailing = /(\\*)\$$/.exec(body);
  if (trailing && trailing[1].length % 2 === 0) body = body.slice(0, -1);
  return topLevelAlternation(body) ? `(?:${body})$` : `${body}$`;
}

/** The path as a Kong route path (decK). */
export function kongPath(path: StringMatch): string {
  if (path.kind === 'prefix') return path.value;
  if (path.kind === 'exact') return `~${escapeRegex(path.value)}$`;
  return `~${wholePathRegex(path.value)}`;
}

/** The path as an Ingress path: Exact, or ImplementationSpecific (a plain prefix, or a "/~" regex). */
export function ingressPath(path: StringMatch): { path: string; pathType: 'Exact' | 'ImplementationSpecific' } {
  if (path.kind === 'exact') return { path: path.value, pathType: 'Exact' };
  if (path.kind === 'prefix') return { path: path.value, pathType: 'ImplementationSpecific' };
  return { path: `/${kongPath(path)}`, pathType: 'ImplementationSpecific' };
}

/** Kong orders regex paths by regex_priority (highest first): keep gateway.yaml's order. */
export function regexPriority(route: Route, model: GatewayModel): number | undefined {
  return route.match.path.kind === 'prefix' ? undefined : model.routes.length - route.index;
}

function headerValue(h: HeaderMatch): string | undefined {
  if (h.match?.kind === 'exact') return h.match.value;
  if (h.match?.kind === 'prefix') return `~*^${escapeRegex(h.match.value)}`;
  if (h.match?.kind === 'regex') return `~*^${wholePathRegex(h.match.value)}`;
  if (h.present === true) return '~*.*';
  return undefined;
}

/** Kong route headers (name → accepted values); a header that must be absent cannot be said. */
export function kongHeaders(route: Route): { headers: Record<string, string[]>; gaps: Gap[] } {
  const headers: Record<string, string[]> = {};
  const gaps: Gap[] = [];
  for (const h of route.match.headers) {
    const v = headerValue(h);
    if (v === undefined) {
      gaps.push({
        route: route.name,
        feature: `header-absence match (${h.name})`,
        why: 'a Kong route can require a header, not its absence: the route also takes requests that carry it',
      });
    } else {
      headers[h.name.toLowerCase()] = [v];
    }
  }
  return { headers, gaps };
}

/** Kong route hosts: the listener's hosts ([] when it serves every host). */
export function kongHosts(listener: Listener): string[] {
  return listener.hosts.includes('*') ? [] : [...listener.hosts];
}

const ingressHostPattern = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Ingress rule hosts: no ports, no "*" (a rule without host), deduplicated. */
export function ingressHosts(listener: Listener): string[] {
  if (listener.hosts.includes('*')) return [];
  const hosts = listener.hosts.map((h) => h.replace(/:[0-9]+$/, '').toLowerCase());
  return [...new Set(hosts)].filter((h) => ingressHostPattern.test(h));
}

/** Hosts an Ingress rule cannot hold (an odd wildcard): the Ingress then serves them on no host rule. */
export function hostGaps(route: Route, listener: Listener): Gap[] {
  if (listener.hosts.includes('*')) return [];
  const bad = listener.hosts.filter((h) => !ingressHostPattern.test(h.replace(/:[0-9]+$/, '').toLowerCase()));
  return bad.map((h) => ({
    route: route.name,
    feature: `host "${h}" in ingress.yaml`,
    why: 'not a host an Ingress rule accepts; kong.yaml keeps it',
  }));
}
