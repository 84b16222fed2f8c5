// The Kong target: the same gateway.yaml as Kong Ingress Controller objects (plugins, consumers,
// Ingress, backend Services) and as one decK file, with a README. Kong's own plugins express what
// they can; every other feature is a warning per route (and a README line), never dropped silently.
// No file holds a secret value: provider keys and the Redis password are Kong vault references,
// client credentials are Secrets the operator creates.
import type { GatewayModel } from '../../model/types.js';
import { toYaml, toYamlDocuments } from '../../output-yaml.js';
import { generatedHeader, type TargetOutput } from '../target.js';
import { authGaps, authPlugins } from './auth.js';
import { backendServiceDocs, existingServices, unreachableGaps } from './backend-services.js';
import { backendGaps, serviceSettings } from './backends.js';
import { consumerPlans } from './consumers.js';
import { kongConsumerDocs, kongPluginDocs } from './crds.js';
import { deckConfig } from './deck.js';
import { stripHeadersPlugin } from './headers.js';
import { ingressDocs } from './ingress.js';
import { limitPlugins } from './limits.js';
import { hostGaps, kongHeaders } from './match.js';
import { globalPlugins } from './observability.js';
import { planRoutes } from './plan.js';
import { providerPlugin } from './provider.js';
import { kongReadme } from './readme.js';
import { type Gap, gapWarning } from './types.js';

export const kongFiles = {
  plugins: 'kong/plugins.yaml',
  consumers: 'kong/consumers.yaml',
  ingress: 'kong/ingress.yaml',
  backendServices: 'kong/backend-services.yaml',
  deck: 'kong/kong.yaml',
  readme: 'kong/README.md',
} as const;

export function emitKong(model: GatewayModel, source: string): TargetOutput {
  const plan = planRoutes(model);
  const routes = plan.routes;
  const services = serviceSettings(model, routes);
  const limits = limitPlugins(model, routes);
  const strip = stripHeadersPlugin(model);
  const gaps: Gap[] = [...plan.gaps];
  const limitGaps = new Map<string, Gap[]>();
  for (const g of limits.gaps) {
    const list = limitGaps.get(g.route);
    if (list) list.push(g);
    else limitGaps.set(g.route, [g]);
  }
  for (const k of routes) {
    const provider = providerPlugin(model.name, k);
    const limit = limits.plugins.get(k);
    k.plugins = [
      ...authPlugins(model, k.route),
      ...(limit ? [limit] : []),
      strip,
      ...(provider.plugin ? [provider.plugin] : []),
    ];
    const listener = model.listeners.find((l) => l.name === k.route.listener)!;
    gaps.push(
      ...kongHeaders(k.route).gaps,
      ...hostGaps(k.route, listener),
      ...unreachableGaps(model, k),
      ...backendGaps(model, k, services),
      ...authGaps(model, k.route),
      ...(limitGaps.get(k.route.name) ?? []),
      ...provider.gaps,
    );
  }
  const order = new Map(model.routes.map((r) => [r.name, r.index]));
  gaps.sort((a, b) => order.get(a.route)! - order.get(b.route)!);

  const usesAiProxy = routes.some((k) => k.plugins.some((p) => p.plugin === 'ai-proxy'));
  const globals = globalPlugins(model, usesAiProxy);
  const consumers = consumerPlans(model, routes);
  const header = (what: string) => generatedHeader(what, source);

  const files = new Map<string, string>();
  files.set(
    kongFiles.plugins,
    toYamlDocuments(
      kongPluginDocs(model, routes, globals),
      header('Kong plugins (Kong Ingress Controller): KongPlugin per route plugin, KongClusterPlugin for global ones.'),
    ),
  );
  if (consumers.length) {
    files.set(
      kongFiles.consumers,
      toYamlDocuments(
        kongConsumerDocs(model, consumers),
        header('Kong consumers. Credentials are Secrets named here, created by the operator (see README.md).'),
      ),
    );
  }
  files.set(
    kongFiles.ingress,
    toYamlDocuments(ingressDocs(model, routes), header('Ingress objects for the Kong Ingress Controller.')),
  );
  const serviceDocs = backendServiceDocs(model, routes, services);
  if (serviceDocs.length) {
    files.set(
      kongFiles.backendServices,
      toYamlDocuments(
        serviceDocs,
        header(
          'Services of the Kong Ingress objects: the objects of manifests/backend-services.yaml (same names) for the backends Kong routes to, with Kong annotations.',
        ),
      ),
    );
  }
  files.set(
    kongFiles.deck,
    toYaml(
      deckConfig(model, routes, services, consumers, globals),
      header('Kong declarative configuration (decK). Credentials are added by the operator (see README.md).'),
    ),
  );
  const sorted = [...files.keys(), kongFiles.readme].sort((a, b) => a.localeCompare(b));
  const existing = existingServices(model, routes, services);
  files.set(
    kongFiles.readme,
    kongReadme({ model, source, routes, services, existing, consumers, globals, gaps, files: sorted }),
  );
  return {
    files: new Map([...files].sort(([a], [b]) => a.localeCompare(b))),
    warnings: gaps.map(gapWarning),
  };
}
