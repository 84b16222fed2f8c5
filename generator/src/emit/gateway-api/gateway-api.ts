// Gateway API objects (gateway.networking.k8s.io/v1, standard channel) for teams that run another
// Gateway API implementation rather than our Envoy: one Gateway (one listener per gateway.yaml
// listener) and one HTTPRoute per listener whose rules are the routes in gateway.yaml order (the
// order breaks ties in Gateway API's match precedence). ext-authz, limits, body dispatch,
// failover and retries have no portable form: each is a warning. See docs/ingress-and-gateway-api.md.
import net from 'node:net';
import type { GatewayModel, Listener, Route, StringMatch } from '../../model/types.js';
import { toYamlDocuments } from '../../output-yaml.js';
import { reservedHeaders } from '../envoy/reserved-headers.js';
import { needsBody } from '../envoy/routes.js';
import {
  type BackendTarget,
  backendServicesFile,
  backendTarget,
  shortServiceNameWarning,
} from '../ingress/backend-services.js';
import {
  backendWarning,
  envoyOnlyWarnings,
  escapeRegex,
  gatewayDuration,
  ingressOutputFiles,
  labels,
  quoted,
  routedBackends,
  routesWithoutBodyDispatch,
  routeWarning,
} from '../ingress/shared.js';
import { generatedHeader, type TargetOutput } from '../target.js';

const target = 'gateway-api';
/** HTTPRoute limits (v1 CRD): rules per route, names per RequestHeaderModifier.remove. */
const maxRules = 16;
const maxRemove = 16;
const gatewayHostname = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

type Json = Record<string, unknown>;

/**
 * Gateway API hostnames for a listener's hosts. A Listener has at most one hostname (a name or
 * `*.domain`, never a port, an IP or `*`), an HTTPRoute a list: one host → the listener's
 * hostname; several → the HTTPRoute's hostnames; `*` → none. Ports are dropped (Gateway API
 * ignores the port of the Host header).
 */
export function listenerHostnames(l: Listener): {
  hostname?: string;
  routeHostnames?: string[];
  unexpressed?: string[];
} {
  const hosts = [...new Set(l.hosts.map((h) => h.replace(/:[0-9]+$/, '').toLowerCase()))];
  if (hosts.includes('*')) return {};
  const bad = hosts.filter((h) => !gatewayHostname.test(h) || net.isIP(h) || h.length > 253);
  if (bad.length) return { unexpressed: bad };
  return hosts.length === 1 ? { hostname: hosts[0] } : { routeHostnames: hosts };
}

function pathMatch(m: StringMatch): Json {
  if (m.kind === 'exact') return { type: 'Exact', value: m.value };
  if (m.kind === 'prefix') return { type: 'PathPrefix', value: m.value };
  return { type: 'RegularExpression', value: m.value };
}

function headerMatches(route: Route, warn: (text: string) => void): Json[] {
  const out: Json[] = [];
  for (const h of route.match.headers) {
    if (h.match?.kind === 'exact') out.push({ name: h.name, type: 'Exact', value: h.match.value });
    else if (h.match?.kind === 'prefix')
      out.push({ name: h.name, type: 'RegularExpression', value: `^${escapeRegex(h.match.value)}.*` });
    else if (h.match?.kind === 'regex') out.push({ name: h.name, type: 'RegularExpression', value: h.match.value });
    else if (h.present !== false) out.push({ name: h.name, type: 'RegularExpression', value: '.*' });
    else
      warn(
        `header match "${h.name}" absent is not expressed (Gateway API has no negative match: requests with the header reach the route too)`,
      );
  }
  return out;
}

function routeRule(
  route: Route,
  targets: { weight: number; target: Exclude<BackendTarget, { kind: 'unreachable' }> }[],
  removeHeaders: string[],
  warn: (text: string) => void,
): Json {
  const path = pathMatch(route.match.path);
  const headers = headerMatches(route, warn);
  const base: Json = { path, ...(headers.length ? { headers } : {}) };
  const matches = route.match.methods ? route.match.methods.map((method) => ({ ...base, method })) : [base];
  const filters: Json[] = [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: removeHeaders } }];
  const only = targets.length === 1 ? targets[0].target : undefined;
  if (only?.kind === 'external-name' && only.backend.scheme === 'https')
    filters.push({ type: 'URLRewrite', urlRewrite: { hostname: only.backend.host } });
  const rule: Json = {
    matches,
    filters,
    backendRefs: targets.map((t) => ({
      name: t.target.service,
      port: t.target.port,
      ...(route.action.kind === 'split' ? { weight: t.weight } : {}),
    })),
  };
  // 0s: no whole-request timeout (streaming), as in Envoy. The idle timeout has no standard field.
  rule.timeouts = { request: gatewayDuration(route.timeoutMs) };
  return rule;
}

function routeWarnings(model: GatewayModel, route: Route): string[] {
  const out: string[] = [];
  const w = (text: string) => out.push(routeWarning(target, route.name, text));
  if (!route.auth.anonymous || route.personalData === 'deny' || (needsBody(route) && route.models.length))
    w(
      'ext-authz is not expressed (no API key, JWT, client, model or personal-data check: ' +
        "attach your implementation's external authorization to ext-authz's HTTP check)",
    );
  const p = route.match.path;
  if (p.kind === 'prefix' && !p.value.endsWith('/'))
    w(
      `prefix "${p.value}" matches whole path elements in Gateway API (${p.value} and ${p.value}/…, not ${p.value}x as in Envoy)`,
    );
  out.push(...envoyOnlyWarnings(model, route, target));
  return out;
}

export function emitGatewayApi(model: GatewayModel, source: string): TargetOutput {
  const { routes, warnings } = routesWithoutBodyDispatch(
    model,
    target,
    'an HTTPRoute cannot match on the request body',
  );
  const k = model.kubernetes.ingress;
  const reserved = reservedHeaders(model);
  if (reserved.length > maxRemove)
    warnings.push(
      `${target}: headers ${quoted(reserved.slice(maxRemove))} are not removed from client requests ` +
        `(a RequestHeaderModifier removes at most ${maxRemove})`,
    );
  const removeHeaders = reserved.slice(0, maxRemove);
  const hostnames = new Map(model.listeners.map((l) => [l.name, listenerHostnames(l)]));
  const gatewayListeners = model.listeners.map((l) => {
    const h = hostnames.get(l.name)!;
    if (h.unexpressed)
      warnings.push(
        `${target}: listener "${l.name}": hosts ${quoted(h.unexpressed)} are not expressed ` +
          '(not a Gateway API hostname): the listener accepts every host',
      );
    const listener: Json = { name: l.name, ...(h.hostname ? { hostname: h.hostname } : {}), port: l.port };
    if (k.tlsSecret)
      Object.assign(listener, {
        protocol: 'HTTPS',
        tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: k.tlsSecret }] },
      });
    else listener.protocol = 'HTTP';
    return listener;
  });
  const gateway = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: model.name, namespace: model.namespace, labels: labels(model) },
    spec: { gatewayClassName: k.gatewayClass, listeners: gatewayListeners },
  };
  const rulesByListener = new Map<string, Json[]>(model.listeners.map((l) => [l.name, []]));
  const used = new Map<string, BackendTarget>();
  for (const route of routes) {
    const targets = routedBackends(route).map((b) => ({
      weight: b.weight,
      target: backendTarget(model, model.backends.find((x) => x.name === b.name)!),
    }));
    const unreachable = targets.find((t) => t.target.kind === 'unreachable')?.target;
    if (unreachable?.kind === 'unreachable') {
      warnings.push(
        routeWarning(
          target,
          route.name,
          `the route is not expressed (a Service cannot point to backend "${unreachable.backend.name}": ${unreachable.reason})`,
        ),
      );
      continue;
    }
    const reachable = targets as { weight: number; target: Exclude<BackendTarget, { kind: 'unreachable' }> }[];
    const ruleWarnings: string[] = [];
    const rule = routeRule(route, reachable, removeHeaders, (t) =>
      ruleWarnings.push(routeWarning(target, route.name, t)),
    );
    warnings.push(...ruleWarnings, ...routeWarnings(model, route));
    rulesByListener.get(route.listener)!.push(rule);
    for (const t of reachable) used.set(t.target.backend.name, t.target);
  }
  const httpRoutes: Json[] = [];
  for (const l of model.listeners) {
    const rules = rulesByListener.get(l.name)!;
    const chunks: Json[][] = [];
    for (let i = 0; i < rules.length; i += maxRules) chunks.push(rules.slice(i, i + maxRules));
    // `<gateway>-<listener>.01`, `.02`: no listener name has a "."; the names sort in rule order.
    const width = Math.max(2, String(chunks.length).length);
    const routeHostnames = hostnames.get(l.name)!.routeHostnames;
    chunks.forEach((chunk, i) => {
      const name =
        chunks.length === 1
          ? `${model.name}-${l.name}`
          : `${model.name}-${l.name}.${String(i + 1).padStart(width, '0')}`;
      httpRoutes.push({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name, namespace: model.namespace, labels: labels(model) },
        spec: {
          parentRefs: [{ name: model.name, sectionName: l.name }],
          ...(routeHostnames ? { hostnames: routeHostnames } : {}),
          rules: chunk,
        },
      });
    });
  }
  const externalNames: string[] = [];
  for (const t of used.values()) {
    const b = t.backend;
    if (t.kind === 'external-name') externalNames.push(b.name);
    if (b.scheme === 'https')
      warnings.push(
        backendWarning(
          target,
          b.name,
          `TLS to the backend is not expressed (it needs a BackendTLSPolicy for SNI ${b.sni}, which is not generated): ` +
            'without one the Gateway speaks plain HTTP to it',
        ),
      );
    const shortName = shortServiceNameWarning(target, t);
    if (shortName) warnings.push(shortName);
  }
  if (externalNames.length)
    warnings.push(
      `${target}: ${externalNames.length === 1 ? 'backend' : 'backends'} ${quoted(externalNames)} ` +
        `${externalNames.length === 1 ? 'is an ExternalName Service' : 'are ExternalName Services'}, ` +
        'whose support Gateway API leaves to the implementation (check that yours forwards to them)',
    );
  const header = generatedHeader(
    `Gateway API (v1): the Gateway and its HTTPRoutes, without ext-authz or limits. Apply with ${ingressOutputFiles.backendServices}.`,
    source,
  );
  const files = new Map<string, string>([
    [ingressOutputFiles.gatewayApi, toYamlDocuments([gateway, ...httpRoutes], header)],
    ...backendServicesFile(model, source),
  ]);
  return { files, warnings };
}
