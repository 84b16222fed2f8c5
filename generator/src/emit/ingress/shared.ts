// What the ingress-nginx and Gateway API outputs have in common: which routes they can carry at
// all, the routes' backends, the warnings for what neither can express, names and labels.
import type { DispatchGroup, GatewayModel, Route, StringMatch } from '../../model/types.js';

/** The outputs of this folder, relative to the output folder. */
export const ingressOutputFiles = {
  ingressNginx: 'manifests/ingress-nginx.yaml',
  gatewayApi: 'manifests/gateway-api.yaml',
  backendServices: 'manifests/backend-services.yaml',
} as const;

export type TargetName = 'ingress-nginx' | 'gateway-api';

/** `<target>: route "<name>": <text>` — the one shape of a per-route warning. */
export const routeWarning = (target: TargetName, route: string, text: string) => `${target}: route "${route}": ${text}`;
export const backendWarning = (target: TargetName, backend: string, text: string) =>
  `${target}: backend "${backend}": ${text}`;

export const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(', ');

export function labels(model: GatewayModel): Record<string, string> {
  return { 'app.kubernetes.io/part-of': model.name, 'app.kubernetes.io/managed-by': 'ai-gateway-kit' };
}

export function describeMatch(m: { path: StringMatch; methods?: string[] }): string {
  return `${m.methods ? `${m.methods.join('|')} ` : ''}${m.path.kind} ${m.path.value}`;
}

/**
 * The routes an output without Envoy can carry, in gateway.yaml order. Routes of a dispatch group
 * are told apart only by the request body, which neither nginx's auth_request nor an HTTPRoute
 * sees: the whole group is left out with one warning. Sending the group's traffic to one member
 * would be wrong for every other member (e.g. every /v1/embeddings request to the provider,
 * in-house models included), so no member stands in for the group.
 */
export function routesWithoutBodyDispatch(
  model: GatewayModel,
  target: TargetName,
  why: string,
): { routes: Route[]; warnings: string[] } {
  const groups = new Map<string, DispatchGroup>(model.dispatchGroups.map((g) => [g.id, g]));
  const routes: Route[] = [];
  const warnings: string[] = [];
  for (const r of model.routes) {
    const group = r.dispatchGroup ? groups.get(r.dispatchGroup) : undefined;
    if (!group) {
      routes.push(r);
      continue;
    }
    if (group.members[0] !== r.name) continue;
    const which = group.members.length === 1 ? `route ${quoted(group.members)}` : `routes ${quoted(group.members)}`;
    warnings.push(
      `${target}: ${which} (${describeMatch(group.match)}): body dispatch is not expressed ` +
        `(${why}, so match.body / match.personal_data cannot be told apart; left out: route on the body with Envoy)`,
    );
  }
  return { routes, warnings };
}

/** The backends a route sends traffic to (failover backends excluded), with weights; weight 0 dropped. */
export function routedBackends(route: Route): { name: string; weight: number }[] {
  const a = route.action;
  if (a.kind === 'single') return [{ name: a.backend, weight: 100 }];
  return a.backends.filter((b) => b.weight > 0);
}

/** Warnings for what only Envoy (with ext-authz and the rate-limit service) does on a route. */
export function envoyOnlyWarnings(model: GatewayModel, route: Route, target: TargetName): string[] {
  const out: string[] = [];
  const w = (text: string) => out.push(routeWarning(target, route.name, text));
  const a = route.action;
  if (a.kind === 'single' && a.failover.length)
    w(`failover to ${quoted(a.failover)} is not expressed (retries and failover need Envoy)`);
  if (route.retries) w('retries are not expressed (retries and failover need Envoy)');
  if (route.limits.length)
    w(
      `limits ${quoted(route.limits)} are not expressed (request and token limits need Envoy and the rate-limit service)`,
    );
  const credentialed = routedBackends(route)
    .map((b) => model.backends.find((x) => x.name === b.name)!)
    .filter((b) => b.credential);
  for (const b of credentialed)
    w(
      `the provider key of backend "${b.name}" is not injected into ${b.credential!.header} ` +
        '(ext-authz hands it to Envoy, which sets it upstream; add it by other means)',
    );
  return out;
}

/** Whether requests on this route can carry a body (methods that usually do, or any method). */
export function acceptsBody(route: Route): boolean {
  return !route.match.methods || route.match.methods.some((m) => ['POST', 'PUT', 'PATCH'].includes(m));
}

/** Escapes a literal for a PCRE / RE2 regular expression. */
export const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a regular expression has a `|` outside every group and character class. */
export function hasTopLevelAlternation(re: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (re[i + 1] === '^') i++;
      if (re[i + 1] === ']') i++;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

/** Whether a regular expression ends with an unescaped `$`. */
export function endsWithAnchor(re: string): boolean {
  if (!re.endsWith('$')) return false;
  let backslashes = 0;
  for (let i = re.length - 2; i >= 0 && re[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** Milliseconds as a Gateway API Duration (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`). */
export function gatewayDuration(ms: number): string {
  if (ms % 1000 === 0 && ms / 1000 <= 99_999) return `${ms / 1000}s`;
  if (ms <= 99_999) return `${ms}ms`;
  const parts: string[] = [];
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const rest = ms % 1000;
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s) parts.push(`${s}s`);
  if (rest) parts.push(`${rest}ms`);
  return parts.join('');
}
