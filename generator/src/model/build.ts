// gateway.yaml (already schema-checked) → the normalised, validated gateway model.
import type { GatewaySource } from '../config/source.js';
import { GatewayError } from '../errors.js';
import { buildBackends } from './backends.js';
import { BuildContext } from './context.js';
import { buildDispatchGroups } from './dispatch.js';
import { buildKubernetes } from './kubernetes.js';
import { buildLimits } from './limits.js';
import { buildOutputs } from './outputs.js';
import type { RawGateway } from './raw.js';
import { buildRoutes } from './routes.js';
import { buildServices } from './services.js';
import { checkShadowing } from './shadowing.js';
import type { GatewayModel } from './types.js';
import { durationMs, regexProblem } from './units.js';

function identities(ctx: BuildContext, raw: RawGateway): Pick<GatewayModel, 'clients' | 'jwtProviders'> {
  const clients = raw.clients ?? [];
  ctx.uniqueNames(clients, 'clients');
  const digests = new Map<string, string>();
  for (const [i, c] of clients.entries()) {
    for (const [j, k] of c.keys.entries()) {
      const owner = digests.get(k.sha256);
      if (owner)
        ctx.error(
          ['clients', i, 'keys', j, 'sha256'],
          `clients[${i}].keys[${j}].sha256: the same key digest is already used by client "${owner}"`,
        );
      digests.set(k.sha256, c.name);
      if (k.expires && Number.isNaN(Date.parse(k.expires)))
        ctx.error(['clients', i, 'keys', j, 'expires'], `clients[${i}].keys[${j}].expires: not a valid date`);
    }
  }
  const providers = raw.jwt_providers ?? [];
  ctx.uniqueNames(providers, 'jwt_providers');
  return {
    clients: clients.map((c) => ({
      name: c.name,
      tenant: c.tenant,
      models: c.models ?? [],
      keys: c.keys.map((k) => ({ ...k })),
    })),
    jwtProviders: providers.map((p, i) => {
      ctx.exactlyOne(
        p.jwks as Record<string, unknown>,
        ['url', 'file'],
        ['jwt_providers', i, 'jwks'],
        `jwt_providers[${i}].jwks`,
      );
      return {
        name: p.name,
        issuer: p.issuer,
        audiences: p.audiences,
        algorithms: p.algorithms,
        jwks: { url: p.jwks.url, file: p.jwks.file, cacheMs: durationMs(p.jwks.cache ?? '10m') },
        claims: {
          client: p.claims?.client ?? 'sub',
          tenant: p.claims?.tenant ?? 'tenant',
          scopes: p.claims?.scopes ?? 'scope',
        },
        clockSkewMs: durationMs(p.clock_skew ?? '60s'),
      };
    }),
  };
}

export function buildModel(src: GatewaySource): GatewayModel {
  const raw = src.value as RawGateway;
  const ctx = new BuildContext(src);
  ctx.uniqueNames(raw.listeners, 'listeners');
  const ports = new Map<number, number>();
  raw.listeners.forEach((l, i) => {
    const prev = ports.get(l.port);
    if (prev !== undefined)
      ctx.error(
        ['listeners', i, 'port'],
        `listeners[${i}].port: port ${l.port} is already used by listener "${raw.listeners[prev].name}"`,
      );
    ports.set(l.port, i);
  });
  const namespace = raw.gateway?.namespace ?? 'ai-gateway';
  const backends = buildBackends(ctx, raw);
  const routes = buildRoutes(ctx, raw, backends);
  checkShadowing(ctx, routes);
  const dispatchGroups = buildDispatchGroups(ctx, routes);
  const limits = buildLimits(ctx, raw, routes);
  const model: GatewayModel = {
    name: raw.gateway?.name ?? 'ai-gateway',
    namespace,
    listeners: raw.listeners.map((l) => ({
      name: l.name,
      address: l.address ?? '0.0.0.0',
      port: l.port,
      hosts: l.hosts ?? ['*'],
      trustedProxies: l.trusted_proxies ?? 0,
    })),
    backends,
    ...identities(ctx, raw),
    routes,
    dispatchGroups,
    limits,
    personalData: {
      detect: raw.personal_data?.detect ?? ['email', 'phone', 'card'],
      patterns: raw.personal_data?.patterns ?? [],
    },
    services: buildServices(ctx, raw, namespace),
    kubernetes: buildKubernetes(raw),
    outputs: buildOutputs(raw),
  };
  (raw.personal_data?.patterns ?? []).forEach((p, i) => {
    try {
      new RegExp(p.regex, 'u');
    } catch (e) {
      ctx.error(
        ['personal_data', 'patterns', i, 'regex'],
        `personal_data.patterns[${i}].regex: invalid regular expression: ${regexProblem(e)}`,
      );
    }
  });
  if (ctx.problems.length) throw new GatewayError(ctx.problems);
  return model;
}
