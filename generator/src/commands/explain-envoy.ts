// Envoy's side of `gen explain`: which listener's virtual host takes a host name, and which route
// of the generated route table a request matches first. It reads the very route JSON that
// `gen build` writes (emit/envoy/routes.ts), so it follows the generated config, not a copy of it.
import { virtualHost } from '../emit/envoy/routes.js';
import type { Json } from '../emit/envoy/type-urls.js';
import type { GatewayModel, Listener } from '../model/types.js';

/** Envoy's virtual host domain match: exact, `*.suffix`, `prefix.*` or `*`, case-insensitive. */
export function domainMatches(domain: string, host: string): boolean {
  const d = domain.toLowerCase();
  const h = host.toLowerCase();
  if (d === '*') return true;
  if (d.startsWith('*')) return h.length > d.length - 1 && h.endsWith(d.slice(1));
  if (d.endsWith('*')) return h.length > d.length - 1 && h.startsWith(d.slice(0, -1));
  return d === h;
}

export function listenersForHost(model: GatewayModel, host: string): Listener[] {
  return model.listeners.filter((l) => l.hosts.some((d) => domainMatches(d, host)));
}

/** Envoy's normalize_path + merge_slashes: `{ path }` without query, `full` with it. */
export function normalisePath(raw: string): { path: string; full: string } {
  const q = raw.indexOf('?');
  const query = q < 0 ? '' : raw.slice(q);
  let path = q < 0 ? raw : raw.slice(0, q);
  // Percent-encoded unreserved characters are decoded (RFC 3986 6.2.2.2).
  path = path.replace(/%([0-9A-Fa-f]{2})/g, (all, hex: string) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : all.toUpperCase();
  });
  path = path.replace(/\/{2,}/g, '/');
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((s, i) => {
    const last = i === segments.length - 1;
    if (s === '.') {
      if (last) out.push('');
    } else if (s === '..') {
      out.pop();
      if (last) out.push('');
    } else out.push(s);
  });
  path = `/${out.join('/')}`;
  return { path, full: path + query };
}

export interface RouteRequest {
  method: string;
  /** Already normalised. */
  path: { path: string; full: string };
  host: string;
  /** Lower-case names. */
  headers: Map<string, string>;
}

function fullMatch(regex: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${regex})$`, 'u').test(value);
  } catch {
    return false;
  }
}

function stringMatches(m: Json, value: string): boolean {
  if (typeof m.exact === 'string') return value === m.exact;
  if (typeof m.prefix === 'string') return value.startsWith(m.prefix);
  if (typeof m.suffix === 'string') return value.endsWith(m.suffix);
  if (typeof m.contains === 'string') return value.includes(m.contains);
  const re = (m.safe_regex as { regex?: string } | undefined)?.regex;
  if (typeof re === 'string') return fullMatch(re, value);
  return false;
}

function headerValue(req: RouteRequest, name: string): string | undefined {
  if (name === ':method') return req.method;
  if (name === ':authority' || name === 'host') return req.host;
  if (name === ':path') return req.path.full;
  return req.headers.get(name.toLowerCase());
}

/** Envoy's HeaderMatcher, including its rules for absent headers and invert_match. */
export function headerMatches(m: Json, req: RouteRequest): boolean {
  const value = headerValue(req, String(m.name));
  const invert = m.invert_match === true;
  if (m.present_match !== undefined) {
    const want = m.present_match === true;
    if (value === undefined) return invert ? want : !want;
    return want !== invert;
  }
  if (value === undefined) return false;
  const sm = m.string_match as Json | undefined;
  const ok = sm ? stringMatches(sm, value) : true;
  return ok !== invert;
}

function pathMatches(m: Json, req: RouteRequest): boolean {
  if (typeof m.path === 'string') return req.path.path === m.path;
  if (typeof m.prefix === 'string') return req.path.full.startsWith(m.prefix);
  const re = (m.safe_regex as { regex?: string } | undefined)?.regex;
  if (typeof re === 'string') return fullMatch(re, req.path.path);
  return false;
}

export function routeMatches(route: Json, req: RouteRequest): boolean {
  const m = route.match as Json;
  if (!pathMatches(m, req)) return false;
  return ((m.headers as Json[] | undefined) ?? []).every((h) => headerMatches(h, req));
}

/** The generated routes of a listener's virtual host, in Envoy's order. */
export function envoyRoutes(model: GatewayModel, listener: string): Json[] {
  return virtualHost(model, listener).routes as Json[];
}

export function firstMatch(routes: Json[], req: RouteRequest): Json | undefined {
  return routes.find((r) => routeMatches(r, req));
}

/** The ext_authz policy a generated route names (its context_extensions). */
export function routePolicy(route: Json): string | undefined {
  const perFilter = route.typed_per_filter_config as Record<string, Json> | undefined;
  for (const cfg of Object.values(perFilter ?? {})) {
    const ext = (cfg.check_settings as Json | undefined)?.context_extensions as Record<string, string> | undefined;
    if (ext?.policy) return ext.policy;
  }
  return undefined;
}
