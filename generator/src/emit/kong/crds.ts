// Kong Ingress Controller objects: KongPlugin per configured plugin (KongClusterPlugin with the
// `global` label for the plugins on every request) and KongConsumer per consumer, whose
// credentials are Secrets named here and created by the operator (never generated: no values).
import type { GatewayModel } from '../../model/types.js';
import type { ConsumerPlan } from './consumers.js';
import { ingressClass, managedLabels } from './names.js';
import type { Json, KongRoute, PluginInstance } from './types.js';

export const kongApiVersion = 'configuration.konghq.com/v1';
const classAnnotation = { 'kubernetes.io/ingress.class': ingressClass };

/** Each plugin instance once, in first-use order; one name always means one config. */
export function uniquePlugins(routes: KongRoute[]): PluginInstance[] {
  const seen = new Map<string, { plugin: PluginInstance; json?: string }>();
  for (const k of routes) {
    for (const p of k.plugins) {
      const prev = seen.get(p.name);
      if (!prev) seen.set(p.name, { plugin: p });
      else if (prev.plugin !== p) {
        // Most routes share the very same instance; others must be equal to it (stringified once).
        prev.json ??= JSON.stringify(prev.plugin);
        if (prev.json !== JSON.stringify(p)) throw new Error(`kong: two configs for plugin ${p.name} (generator bug)`);
      }
    }
  }
  return [...seen.values()].map((s) => s.plugin);
}

export function kongPluginDocs(model: GatewayModel, routes: KongRoute[], globals: PluginInstance[]): Json[] {
  const labels = managedLabels(model.name);
  return [
    ...globals.map((p) => ({
      apiVersion: kongApiVersion,
      kind: 'KongClusterPlugin',
      metadata: { name: p.name, labels: { ...labels, global: 'true' }, annotations: classAnnotation },
      plugin: p.plugin,
      config: p.config,
    })),
    ...uniquePlugins(routes).map((p) => ({
      apiVersion: kongApiVersion,
      kind: 'KongPlugin',
      metadata: { name: p.name, namespace: model.namespace, labels, annotations: classAnnotation },
      plugin: p.plugin,
      config: p.config,
    })),
  ];
}

export function kongConsumerDocs(model: GatewayModel, consumers: ConsumerPlan[]): Json[] {
  return consumers.map((c) => ({
    apiVersion: kongApiVersion,
    kind: 'KongConsumer',
    metadata: {
      name: c.object,
      namespace: model.namespace,
      labels: managedLabels(model.name),
      annotations: classAnnotation,
    },
    username: c.username,
    ...(c.credentials.length ? { credentials: c.credentials.map((s) => s.secret) } : {}),
  }));
}
