// Names and labels of every generated Kubernetes object. Objects are named `<gateway>-<part>`;
// the Services of ext-authz and the rate-limit service take the first label of the host Envoy
// calls (services.*.address), so the addresses in envoy.yaml resolve to them.
import { projectImageTag } from '../../model/kubernetes.js';
import type { Component, GatewayModel } from '../../model/types.js';
import type { ObjectMeta } from './k8s-types.js';

export type Part = 'envoy' | 'ext-authz' | 'ratelimit' | 'redis';

interface PartInfo {
  /** Key of the part in model.kubernetes.images / resources. */
  component: Component;
  /** app.kubernetes.io/name */
  app: string;
  /** app.kubernetes.io/component */
  role: string;
}

export const parts: Record<Part, PartInfo> = {
  envoy: { component: 'envoy', app: 'envoy', role: 'proxy' },
  'ext-authz': { component: 'ext_authz', app: 'ext-authz', role: 'authorization' },
  ratelimit: { component: 'ratelimit', app: 'ratelimit-service', role: 'rate-limit' },
  redis: { component: 'redis', app: 'redis', role: 'counter-store' },
};

export const kitName = 'ai-gateway-kit';

const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The tag of an image reference (`repo/name:tag@sha256:…` → `tag`), when it is a valid label value. */
export function imageVersion(image: string): string | undefined {
  const withoutDigest = image.split('@')[0];
  const last = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const i = last.lastIndexOf(':');
  const tag = i >= 0 ? last.slice(i + 1) : 'latest';
  return tag.length <= 63 && labelValue.test(tag) ? tag : undefined;
}

/** The labels a part's selectors use: stable across versions (selectors are immutable). */
export function selectorLabels(model: GatewayModel, part: Part): Record<string, string> {
  return { 'app.kubernetes.io/name': parts[part].app, 'app.kubernetes.io/instance': model.name };
}

/** The recommended labels of a part's objects and pods. */
export function partLabels(model: GatewayModel, part: Part): Record<string, string> {
  const labels: Record<string, string> = {
    ...selectorLabels(model, part),
    'app.kubernetes.io/component': parts[part].role,
    'app.kubernetes.io/part-of': kitName,
    'app.kubernetes.io/managed-by': kitName,
  };
  const version = imageVersion(model.kubernetes.images[parts[part].component]);
  if (version) labels['app.kubernetes.io/version'] = version;
  return labels;
}

/** The recommended labels of objects that belong to the whole gateway (namespace, policies, alerts). */
export function gatewayLabels(model: GatewayModel): Record<string, string> {
  return {
    'app.kubernetes.io/name': kitName,
    'app.kubernetes.io/instance': model.name,
    'app.kubernetes.io/component': 'gateway',
    'app.kubernetes.io/part-of': kitName,
    'app.kubernetes.io/managed-by': kitName,
    'app.kubernetes.io/version': projectImageTag,
  };
}

/** `<gateway>-<part>[-<suffix>]`, e.g. `ai-gateway-envoy`, `ai-gateway-envoy-config`. */
export function objectName(model: GatewayModel, part: Part, suffix?: string): string {
  return suffix ? `${model.name}-${part}-${suffix}` : `${model.name}-${part}`;
}

export function metadata(
  model: GatewayModel,
  name: string,
  labels: Record<string, string>,
  annotations?: Record<string, string>,
): ObjectMeta {
  const meta: ObjectMeta = { name, namespace: model.namespace, labels };
  if (annotations) meta.annotations = annotations;
  return meta;
}

const dnsLabel = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The Service name that `host` reaches from inside `namespace`: `svc`, `svc.ns`, `svc.ns.svc` and
 * `svc.ns.svc.<cluster domain>` all do. undefined for any other host (another namespace, outside).
 */
export function serviceNameOfHost(host: string, namespace: string): string | undefined {
  const [first, ...rest] = host.toLowerCase().replace(/\.$/, '').split('.');
  if (!dnsLabel.test(first)) return undefined;
  if (rest.length === 0) return first;
  if (rest[0] !== namespace) return undefined;
  if (rest.length === 1) return first;
  return rest[1] === 'svc' ? first : undefined;
}

export interface ServiceNames {
  envoy: string;
  extAuthz: string;
  ratelimit: string;
  redis: string;
  /** Said to the user when a Service cannot carry the name Envoy's config calls. */
  warnings: string[];
}

export function serviceNames(model: GatewayModel): ServiceNames {
  const warnings: string[] = [];
  const taken = new Set([objectName(model, 'envoy'), objectName(model, 'redis')]);
  const pick = (part: Part, field: string, svc: { host: string; port: number }) => {
    const wanted = serviceNameOfHost(svc.host, model.namespace);
    if (wanted && !taken.has(wanted)) {
      taken.add(wanted);
      return wanted;
    }
    const name = objectName(model, part);
    warnings.push(
      `services.${field}.address "${svc.host}:${svc.port}" is not a Service of namespace "${model.namespace}" that the manifests can create: ` +
        `the ${part} Service is named "${name}", and Envoy calls "${svc.host}" (point the address at ${name}.${model.namespace}.svc.cluster.local:${svc.port} to use it)`,
    );
    taken.add(name);
    return name;
  };
  const extAuthz = pick('ext-authz', 'ext_authz', model.services.extAuthz);
  const ratelimit = pick('ratelimit', 'ratelimit', model.services.ratelimit);
  return { envoy: objectName(model, 'envoy'), extAuthz, ratelimit, redis: objectName(model, 'redis'), warnings };
}
