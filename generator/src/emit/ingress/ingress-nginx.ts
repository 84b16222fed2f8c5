// Ingress objects for ingress-nginx, for teams whose edge is ingress-nginx rather than our Envoy.
// ext-authz protects each route through ingress-nginx's auth-url (its HTTP check); the policy is
// per Ingress annotation, so each route is one Ingress (plus one canary Ingress for a 2-way split).
// What nginx cannot do (body dispatch, method and header matches, retries, failover, limits,
// provider keys) is reported as a warning, never dropped silently. See docs/ingress-and-gateway-api.md.
import type { GatewayModel, Route, StringMatch } from '../../model/types.js';
import { toYamlDocuments } from '../../output-yaml.js';
import { authzPolicy } from '../authz/policy.js';
import { needsBody } from '../envoy/routes.js';
import { portPlan } from '../kubernetes/ports.js';
import { routePolicyName } from '../names.js';
import { generatedHeader, type TargetOutput } from '../target.js';
import { type BackendTarget, backendServicesFile, backendTarget, shortServiceNameWarning } from './backend-services.js';
import {
  acceptsBody,
  backendWarning,
  endsWithAnchor,
  envoyOnlyWarnings,
  escapeRegex,
  hasTopLevelAlternation,
  ingressOutputFiles,
  labels,
  quoted,
  routedBackends,
  routesWithoutBodyDispatch,
  routeWarning,
} from './shared.js';

const target = 'ingress-nginx';
const prefix = 'nginx.ingress.kubernetes.io/';

type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';
interface IngressPath {
  path: string;
  pathType: PathType;
}

/** Paths ingress-nginx accepts for Exact and Prefix (strict-validate-path-type, on by default). */
const strictPath = /^\/[A-Za-z0-9._\-/]*$/;

/** Whether the route needs nginx's regex locations (use-regex). */
const needsRegex = (m: StringMatch) => m.kind === 'regex' || (m.kind === 'exact' && !strictPath.test(m.value));

/**
 * The regex written as an ImplementationSpecific path. ingress-nginx writes `location ~* "^<path>"`;
 * Envoy matches a regex against the whole path. A path must start with "/" (Kubernetes).
 */
export function nginxRegexPath(regex: string): string {
  const r = regex.startsWith('^') ? regex.slice(1) : regex;
  if (r.startsWith('/') && !hasTopLevelAlternation(r)) return endsWithAnchor(r) ? r : `${r}$`;
  // "/{0}" matches nothing and makes the path start with "/".
  return `/{0}(?:${regex})$`;
}

/**
 * Exact → Exact. A prefix ending in "/" → Prefix: ingress-nginx writes `location /v1/` plus
 * `location = /v1/`, exactly Envoy's string prefix. A prefix without a trailing "/" (`/v1`) →
 * ImplementationSpecific: a plain nginx prefix location, which like Envoy also matches `/v1x`
 * (Prefix would match whole path elements only: `/v1`, `/v1/…`). In regex mode (some path of
 * the host is a regex: ingress-nginx then matches every path of the host as `~* "^<path>"`),
 * every path is written as a regex that keeps its meaning.
 */
export function ingressPath(m: StringMatch, regexMode: boolean): IngressPath {
  if (regexMode) {
    const path =
      m.kind === 'regex' ? nginxRegexPath(m.value) : `${escapeRegex(m.value)}${m.kind === 'exact' ? '$' : ''}`;
    return { path, pathType: 'ImplementationSpecific' };
  }
  if (m.kind === 'exact') return { path: m.value, pathType: 'Exact' };
  if (m.value.endsWith('/') && strictPath.test(m.value)) return { path: m.value, pathType: 'Prefix' };
  return { path: m.value, pathType: 'ImplementationSpecific' };
}

/** Headers set from ext-authz's answer (and removed when it sends none): identity, reserved, client credentials. */
export function authResponseHeaders(model: GatewayModel): string[] {
  const h = authzPolicy(model).headers as { reserved: string[]; credentials: string[] };
  // Not x-aigw-credential-*: ext-authz answers with the provider keys of the whole failover
  // chain, and nginx would pass every one of them to the one backend it proxies to.
  return [...h.reserved.filter((x) => !x.startsWith('x-aigw-credential-')), ...h.credentials];
}

/**
 * ext-authz's HTTP check for a route's policy. The host is the one Envoy calls (its Service in the
 * Kubernetes output); the port is ext-authz's `--http-port` there (9002, or 9003 when 9002 is its
 * gRPC port), not services.ext_authz.address's gRPC port.
 */
export function authUrl(model: GatewayModel, route: string): string {
  const port = portPlan(model).extAuthz.http;
  return `http://${model.services.extAuthz.host}:${port}/check?policy=${encodeURIComponent(routePolicyName(route))}`;
}

/** Route names have no ".", so `<gateway>-<route>.canary` never collides with another route's Ingress. */
export const canaryName = (ingressName: string) => `${ingressName}.canary`;

const seconds = (ms: number) => String(Math.ceil(ms / 1000));

function backendAnnotations(t: BackendTarget): Record<string, string> {
  if (t.kind === 'unreachable' || t.backend.scheme !== 'https') return {};
  const b = t.backend;
  return {
    [`${prefix}backend-protocol`]: 'HTTPS',
    [`${prefix}upstream-vhost`]: b.port === 443 ? b.host : `${b.host}:${b.port}`,
  };
}

function ingress(
  model: GatewayModel,
  route: string,
  name: string,
  annotations: Record<string, string>,
  p: IngressPath,
  t: Exclude<BackendTarget, { kind: 'unreachable' }>,
): Record<string, unknown> {
  const k = model.kubernetes.ingress;
  const spec: Record<string, unknown> = { ingressClassName: k.class };
  if (k.tlsSecret) spec.tls = [{ ...(k.host ? { hosts: [k.host] } : {}), secretName: k.tlsSecret }];
  spec.rules = [
    {
      ...(k.host ? { host: k.host } : {}),
      http: {
        paths: [{ ...p, backend: { service: { name: t.service, port: { number: t.port } } } }],
      },
    },
  ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: model.namespace,
      labels: { ...labels(model), 'ai-gateway-kit/route': route },
      annotations,
    },
    spec,
  };
}

function routeWarnings(model: GatewayModel, route: Route): string[] {
  const out: string[] = [];
  const w = (text: string) => out.push(routeWarning(target, route.name, text));
  if (route.match.methods)
    w(`method match (${route.match.methods.join(', ')}) is not expressed (every method reaches the route)`);
  if (route.match.headers.length)
    w(
      `header match on ${quoted(route.match.headers.map((h) => h.name))} is not expressed ` +
        '(every request on the path reaches the route)',
    );
  if (needsBody(route) && acceptsBody(route))
    w(
      'body checks (model, personal data, token estimate) are not expressed ' +
        '(nginx sends no body to ext-authz: a client with a model list is refused, 400 becomes 500)',
    );
  out.push(...envoyOnlyWarnings(model, route, target));
  if (route.timeoutMs === 0 && route.idleTimeoutMs === undefined)
    w('"no timeout" is not expressed (ingress-nginx keeps its proxy-read-timeout, 60s by default)');
  return out;
}

export function emitIngressNginx(model: GatewayModel, source: string): TargetOutput {
  const { routes, warnings } = routesWithoutBodyDispatch(model, target, 'nginx sends no request body to ext-authz');
  const k = model.kubernetes.ingress;
  if (model.listeners.length > 1)
    warnings.push(
      `${target}: listeners ${quoted(model.listeners.map((l) => l.name))} are not told apart ` +
        `(every Ingress serves ${k.host ? `host ${k.host}` : 'every host'} on the controller's ports)`,
    );
  const listenerHosts = [...new Set(model.listeners.flatMap((l) => l.hosts))];
  if (!k.host && !listenerHosts.includes('*'))
    warnings.push(
      `${target}: listener hosts ${quoted(listenerHosts)} are not expressed ` +
        '(the Ingresses have no host and match every host: set kubernetes.ingress.host)',
    );
  const regexRoute = routes.find((r) => needsRegex(r.match.path));
  if (regexRoute)
    warnings.push(
      routeWarning(
        target,
        regexRoute.name,
        'its path needs use-regex, which ingress-nginx applies to every path of the host ' +
          '(all paths, also of other Ingresses on the host, become case-insensitive regexes; the generated ones keep their meaning)',
      ),
    );
  const objects: Record<string, unknown>[] = [];
  const paths = new Map<string, string>();
  const usedBackends: BackendTarget[] = [];
  const responseHeaders = authResponseHeaders(model).join(',');
  for (const route of routes) {
    const w = (text: string) => warnings.push(routeWarning(target, route.name, text));
    const p = ingressPath(route.match.path, regexRoute !== undefined);
    const key = `${p.pathType} ${p.path}`;
    const earlier = paths.get(key);
    if (earlier) {
      w(
        `the route is not expressed (ingress-nginx cannot tell it from route "${earlier}" on the same path: ` +
          'method and header matches need Envoy)',
      );
      continue;
    }
    let split = routedBackends(route).map((b) => ({
      ...b,
      target: backendTarget(model, model.backends.find((x) => x.name === b.name)!),
    }));
    const unreachable = split.find((b) => b.target.kind === 'unreachable');
    if (unreachable?.target.kind === 'unreachable') {
      w(
        `the route is not expressed (a Service cannot point to backend "${unreachable.name}": ${unreachable.target.reason})`,
      );
      continue;
    }
    if (split.length > 2) {
      const top = split.reduce((a, b) => (b.weight > a.weight ? b : a));
      w(
        `weighted split over ${quoted(split.map((b) => b.name))} is not expressed ` +
          `(an ingress-nginx canary takes 2 backends): all traffic goes to "${top.name}"`,
      );
      split = [top];
    }
    paths.set(key, route.name);
    warnings.push(...routeWarnings(model, route));
    const [main, canary] = split as {
      name: string;
      weight: number;
      target: Exclude<BackendTarget, { kind: 'unreachable' }>;
    }[];
    const annotations: Record<string, string> = {
      [`${prefix}auth-url`]: authUrl(model, route.name),
      // With a method, ingress-nginx also sends X-Original-URI: ext-authz logs the real path.
      [`${prefix}auth-method`]: 'GET',
      [`${prefix}auth-response-headers`]: responseHeaders,
    };
    const readTimeout = route.idleTimeoutMs ?? route.timeoutMs;
    if (readTimeout > 0) {
      annotations[`${prefix}proxy-read-timeout`] = seconds(readTimeout);
      annotations[`${prefix}proxy-send-timeout`] = seconds(readTimeout);
    }
    if (route.streaming) annotations[`${prefix}proxy-buffering`] = 'off';
    if (regexRoute) annotations[`${prefix}use-regex`] = 'true';
    const name = `${model.name}-${route.name}`;
    objects.push(
      ingress(model, route.name, name, { ...annotations, ...backendAnnotations(main.target) }, p, main.target),
    );
    usedBackends.push(main.target);
    if (canary) {
      const total = main.weight + canary.weight;
      const canaryAnnotations: Record<string, string> = {
        ...annotations,
        ...backendAnnotations(canary.target),
        [`${prefix}canary`]: 'true',
        [`${prefix}canary-weight`]: String(canary.weight),
      };
      if (total !== 100) canaryAnnotations[`${prefix}canary-weight-total`] = String(total);
      objects.push(ingress(model, route.name, canaryName(name), canaryAnnotations, p, canary.target));
      usedBackends.push(canary.target);
      const differs = (x: BackendTarget) => JSON.stringify(backendAnnotations(x));
      if (differs(main.target) !== differs(canary.target))
        w(
          `canary backend "${canary.name}" gets the backend-protocol and upstream-vhost of "${main.name}" ` +
            '(ingress-nginx ignores those annotations on a canary Ingress)',
        );
    }
  }
  const seen = new Set<string>();
  for (const t of usedBackends) {
    const b = t.backend;
    if (seen.has(b.name)) continue;
    seen.add(b.name);
    if (b.scheme === 'https')
      warnings.push(
        backendWarning(
          target,
          b.name,
          `TLS to ${b.host} is neither verified nor sent with SNI ${b.sni} (ingress-nginx applies proxy-ssl-verify, ` +
            'proxy-ssl-server-name and proxy-ssl-name only together with proxy-ssl-secret, a Secret with ca.crt: add them by hand)',
        ),
      );
    const shortName = shortServiceNameWarning(target, t);
    if (shortName) warnings.push(shortName);
  }
  const files = new Map<string, string>();
  if (objects.length) {
    const header = generatedHeader(
      `ingress-nginx Ingresses: one per route, protected by ext-authz (auth-url). Apply with ${ingressOutputFiles.backendServices}.`,
      source,
    );
    files.set(ingressOutputFiles.ingressNginx, toYamlDocuments(objects, header));
    for (const [f, c] of backendServicesFile(model, source)) files.set(f, c);
  } else {
    warnings.push(`${target}: no route can be expressed: ${ingressOutputFiles.ingressNginx} is not written`);
  }
  return { files, warnings };
}
