// The Kong Ingress Controller objects we write, as the project's own schemas: the fields of
// KongPlugin, KongClusterPlugin and KongConsumer (configuration.konghq.com/v1) that the Kong
// emitter uses, with Kong's types. `config` is checked per plugin (plugins.ts).
import type { SchemaObject } from 'ajv';
import { closed, dnsLabel, dnsSubdomain, str, stringMap } from './common.js';

export const kongApiVersion = 'configuration.konghq.com/v1';

const metadata = (namespaced: boolean): SchemaObject =>
  closed(
    {
      name: dnsSubdomain,
      ...(namespaced ? { namespace: dnsLabel } : {}),
      labels: stringMap,
      annotations: stringMap,
    },
    namespaced ? ['name', 'namespace'] : ['name'],
  );

const plugin = (kind: string, namespaced: boolean): SchemaObject =>
  closed(
    {
      apiVersion: { const: kongApiVersion },
      kind: { const: kind },
      metadata: metadata(namespaced),
      plugin: str,
      config: { type: 'object' },
    },
    ['apiVersion', 'kind', 'metadata', 'plugin'],
  );

export const crdSchemas: Record<string, SchemaObject> = {
  KongPlugin: plugin('KongPlugin', true),
  KongClusterPlugin: plugin('KongClusterPlugin', false),
  KongConsumer: closed(
    {
      apiVersion: { const: kongApiVersion },
      kind: { const: 'KongConsumer' },
      metadata: metadata(true),
      username: str,
      credentials: { type: 'array', items: dnsSubdomain, uniqueItems: true },
    },
    ['apiVersion', 'kind', 'metadata', 'username'],
  ),
};
