// Checks of the generated Kubernetes manifests (manifests/*.yaml), before anything is written:
//  - every document is an object of a known apiVersion/kind, valid against kubernetes-models
//    (core, apps, networking, autoscaling, policy), the Prometheus Operator's and Gateway API's;
//  - names are DNS-1123 (labels where Kubernetes needs one), label keys and values are valid,
//    every namespaced object has a namespace (the Namespace's, when the manifests create one), no
//    object twice, and no Secret at all (Secrets are the operator's: manifests/README.md);
//  - references resolve: Service, PodDisruptionBudget and NetworkPolicy selectors select a pod
//    template, named target ports and probe ports are container ports, ConfigMap volumes and keys
//    are generated, Secret volumes and keys are listed in manifests/README.md's
//    `kubectl create secret` lines, volume mounts name a volume, service accounts exist, an
//    autoscaler's target exists, a ServiceMonitor selects a Service with its ports.

import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { GatewayClass } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { ReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { IngressClass } from 'kubernetes-models/networking.k8s.io/v1/IngressClass';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { OutputProblem } from './problem.js';
import { yamlDocuments } from './yaml-documents.js';

type Json = Record<string, unknown>;
interface Validatable {
  validate(): void;
}
type KindClass = new (data: never) => Validatable;

const kinds: Record<string, Record<string, KindClass>> = {
  v1: { ConfigMap, LimitRange, Namespace, ResourceQuota, Secret, Service, ServiceAccount },
  'apps/v1': { DaemonSet, Deployment, StatefulSet },
  'networking.k8s.io/v1': { Ingress, IngressClass, NetworkPolicy },
  'autoscaling/v2': { HorizontalPodAutoscaler },
  'policy/v1': { PodDisruptionBudget },
  'monitoring.coreos.com/v1': { PodMonitor, PrometheusRule, ServiceMonitor },
  'gateway.networking.k8s.io/v1': {
    Gateway,
    GatewayClass,
    HTTPRoute,
  },
  'gateway.networking.k8s.io/v1beta1': { ReferenceGrant },
};
const clusterScoped = new Set(['Namespace', 'IngressClass', 'GatewayClass']);
const workloads = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
/** Kinds whose name becomes a DNS label (host names, Service DNS), not just a subdomain. */
const labelNamed = new Set(['Namespace', 'StatefulSet']);

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const secretLine = /^kubectl -n (\S+) create secret generic (\S+)((?: --from-literal=[^=\s]+=\S*)+)\s*$/;

interface Doc {
  file: string;
  index: number;
  obj: Json;
  kind: string;
  name: string;
  namespace?: string;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const get = (v: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((o, k) => (o === null || typeof o !== 'object' ? undefined : (o as Json)[k as string]), v);
const strings = (v: unknown): Record<string, string> =>
  isObject(v)
    ? Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string') as [string, string][])
    : {};

/** `/spec/template/spec/containers/0/name` → `spec.template.spec.containers[0].name` */
function dotted(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** Secrets (name → keys) that manifests/README.md tells the operator to create. */
function listedSecrets(files: Map<string, string>): Map<string, Set<string>> | undefined {
  const readme = files.get('manifests/README.md');
  if (readme === undefined) return undefined;
  const out = new Map<string, Set<string>>();
  for (const line of readme.split('\n')) {
    const m = secretLine.exec(line.trim());
    if (!m) continue;
    const keys = out.get(m[2]) ?? new Set<string>();
    for (const lit of m[3].trim().split(/\s+/)) keys.add(lit.slice('--from-literal='.length).split('=')[0]);
    out.set(m[2], keys);
  }
  return out;
}

function parseDocs(files: Map<string, string>, problems: OutputProblem[]): Doc[] {
  const docs: Doc[] = [];
  for (const [file, text] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!/^manifests\/[^/]+\.ya?ml$/.test(file)) continue;
    yamlDocuments(text).forEach((d) => {
      const index = d.index;
      if (d.error) {
        problems.push({ file, path: `[${index}]`, message: `not valid YAML: ${d.error}` });
        return;
      }
      const obj = d.value;
      if (obj === null || obj === undefined) return;
      if (!isObject(obj)) {
        problems.push({ file, path: `[${index}]`, message: 'a document must be a Kubernetes object' });
        return;
      }
      docs.push({
        file,
        index,
        obj,
        kind: str(obj.kind) ?? '',
        name: str(get(obj, 'metadata', 'name')) ?? '',
        namespace: str(get(obj, 'metadata', 'namespace')),
      });
    });
  }
  return docs;
}

function checkSchema(d: Doc, report: (path: string, message: string) => void): boolean {
  const apiVersion = str(d.obj.apiVersion);
  if (!apiVersion || !d.kind) {
    report('', 'apiVersion and kind are required');
    return false;
  }
  const Kind = kinds[apiVersion]?.[d.kind];
  if (!Kind) {
    report('', `unknown kind ${apiVersion} ${d.kind}`);
    return false;
  }
  try {
    // The model's prototype over a shallow copy: what `new Kind(obj)` validates, without its deep
    // copy of every object (the documents are read-backs already: no undefined fields to drop).
    (Object.assign(Object.create(Kind.prototype), d.obj) as { validate(): void }).validate();
  } catch (e) {
    const errors = (e as { errors?: { instancePath?: string; message?: string }[] }).errors;
    if (!errors?.length) report('', (e as Error).message);
    for (const err of errors ?? []) report(dotted(err.instancePath ?? ''), err.message ?? 'invalid');
  }
  return true;
}

function checkMetadata(d: Doc, namespaceName: string | undefined, report: (path: string, message: string) => void) {
  const name = d.name;
  if (!name) report('metadata.name', 'is required');
  else if (d.kind === 'Service' ? !dns1035Label.test(name) || name.length > 63 : false)
    report('metadata.name', `"${name}" is not a DNS-1035 label (a letter, then letters, digits and "-", at most 63)`);
  else if (labelNamed.has(d.kind) ? !dns1123Label.test(name) || name.length > 63 : false)
    report('metadata.name', `"${name}" is not a DNS-1123 label (at most 63 characters)`);
  else if (!dns1123Subdomain.test(name) || name.length > 253)
    report('metadata.name', `"${name}" is not a DNS-1123 subdomain`);
  if (clusterScoped.has(d.kind)) {
    if (d.namespace !== undefined) report('metadata.namespace', `a ${d.kind} has no namespace`);
  } else if (!d.namespace) report('metadata.namespace', 'is required (every object goes into the gateway namespace)');
  else if (namespaceName !== undefined && d.namespace !== namespaceName)
    report('metadata.namespace', `"${d.namespace}" is not the namespace these manifests create ("${namespaceName}")`);
  if (d.kind === 'Secret')
    report('', 'the manifests never hold a Secret: list it in manifests/README.md for the operator');
  const checkLabels = (labels: unknown, where: string) => {
    for (const [k, v] of Object.entries(isObject(labels) ? labels : {})) {
      const [prefix, key] = k.includes('/')
        ? [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)]
        : [undefined, k];
      if (prefix !== undefined && (!dns1123Subdomain.test(prefix) || prefix.length > 253))
        report(`${where}.${k}`, 'label prefix is not a DNS-1123 subdomain');
      if (!labelName.test(key) || key.length > 63) report(`${where}.${k}`, 'invalid label name');
      if (typeof v !== 'string' || !labelValue.test(v) || v.length > 63)
        report(`${where}.${k}`, `invalid label value ${JSON.stringify(v)}`);
    }
  };
  checkLabels(get(d.obj, 'metadata', 'labels'), 'metadata.labels');
  if (workloads.has(d.kind))
    checkLabels(get(d.obj, 'spec', 'template', 'metadata', 'labels'), 'spec.template.metadata.labels');
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

interface PodTemplate {
  doc: Doc;
  labels: Record<string, string>;
  spec: Json;
  ports: { name?: string; port: number }[];
}

function podTemplates(docs: Doc[]): PodTemplate[] {
  return docs
    .filter((d) => workloads.has(d.kind))
    .map((doc) => {
      const spec = get(doc.obj, 'spec', 'template', 'spec');
      const containers = [...asArray(get(spec, 'containers')), ...asArray(get(spec, 'initContainers'))];
      return {
        doc,
        labels: strings(get(doc.obj, 'spec', 'template', 'metadata', 'labels')),
        spec: isObject(spec) ? spec : {},
        ports: containers.flatMap((c) =>
          asArray(get(c, 'ports')).map((p) => ({ name: str(get(p, 'name')), port: Number(get(p, 'containerPort')) })),
        ),
      };
    });
}

function checkPodTemplate(
  t: PodTemplate,
  docs: Doc[],
  secrets: Map<string, Set<string>> | undefined,
  report: (path: string, message: string) => void,
) {
  const ns = t.doc.namespace;
  const find = (kind: string, name: string | undefined) =>
    docs.find((d) => d.kind === kind && d.name === name && d.namespace === ns);
  const configMapKeys = (name: string | undefined) => {
    const cm = find('ConfigMap', name);
    return cm
      ? new Set([
          ...Object.keys(strings(cm.obj.data)),
          ...Object.keys(isObject(cm.obj.binaryData) ? cm.obj.binaryData : {}),
        ])
      : undefined;
  };
  const checkConfigMap = (where: string, name: string | undefined, keys: string[]) => {
    const known = configMapKeys(name);
    if (!known) report(where, `ConfigMap "${name}" is not in the manifests`);
    else for (const k of keys) if (!known.has(k)) report(where, `ConfigMap "${name}" has no key "${k}"`);
  };
  const checkSecret = (where: string, name: string | undefined, keys: string[]) => {
    const known = name === undefined ? undefined : secrets?.get(name);
    if (!secrets)
      report(
        where,
        `Secret "${name}" is referenced but manifests/README.md, which lists the Secrets to create, is missing`,
      );
    else if (!known)
      report(where, `Secret "${name}" is not listed in manifests/README.md's kubectl create secret lines`);
    else
      for (const k of keys)
        if (!known.has(k)) report(where, `key "${k}" of Secret "${name}" is not listed in manifests/README.md`);
  };
  const base = 'spec.template.spec';
  const itemKeys = (items: unknown) => asArray(items).map((i) => String(get(i, 'key')));
  const volumes = asArray(t.spec.volumes);
  const volumeNames = new Set<string>();
  volumes.forEach((v, i) => {
    const where = `${base}.volumes[${i}]`;
    const name = String(get(v, 'name'));
    if (volumeNames.has(name)) report(`${where}.name`, `volume "${name}" twice`);
    volumeNames.add(name);
    if (get(v, 'configMap') !== undefined)
      checkConfigMap(`${where}.configMap`, str(get(v, 'configMap', 'name')), itemKeys(get(v, 'configMap', 'items')));
    if (get(v, 'secret') !== undefined)
      checkSecret(`${where}.secret`, str(get(v, 'secret', 'secretName')), itemKeys(get(v, 'secret', 'items')));
    asArray(get(v, 'projected', 'sources')).forEach((s, j) => {
      if (get(s, 'configMap') !== undefined)
        checkConfigMap(
          `${where}.projected.sources[${j}].configMap`,
          str(get(s, 'configMap', 'name')),
          itemKeys(get(s, 'configMap', 'items')),
        );
      if (get(s, 'secret') !== undefined)
        checkSecret(
          `${where}.projected.sources[${j}].secret`,
          str(get(s, 'secret', 'name')),
          itemKeys(get(s, 'secret', 'items')),
        );
    });
  });
  const sa = str(t.spec.serviceAccountName);
  if (sa && sa !== 'default' && !find('ServiceAccount', sa))
    report(`${base}.serviceAccountName`, `ServiceAccount "${sa}" is not in the manifests`);
  for (const group of ['initContainers', 'containers']) {
    asArray(t.spec[group]).forEach((c, i) => {
      const where = `${base}.${group}[${i}]`;
      const ports = asArray(get(c, 'ports')).map((p) => ({
        name: str(get(p, 'name')),
        port: Number(get(p, 'containerPort')),
      }));
      asArray(get(c, 'volumeMounts')).forEach((m, j) => {
        if (!volumeNames.has(String(get(m, 'name'))))
          report(`${where}.volumeMounts[${j}].name`, `no volume "${get(m, 'name')}" in the pod`);
      });
      asArray(get(c, 'env')).forEach((e, j) => {
        const ref = get(e, 'valueFrom');
        if (get(ref, 'secretKeyRef') !== undefined)
          checkSecret(`${where}.env[${j}].valueFrom.secretKeyRef`, str(get(ref, 'secretKeyRef', 'name')), [
            String(get(ref, 'secretKeyRef', 'key')),
          ]);
        if (get(ref, 'configMapKeyRef') !== undefined)
          checkConfigMap(`${where}.env[${j}].valueFrom.configMapKeyRef`, str(get(ref, 'configMapKeyRef', 'name')), [
            String(get(ref, 'configMapKeyRef', 'key')),
          ]);
      });
      asArray(get(c, 'envFrom')).forEach((e, j) => {
        if (get(e, 'secretRef') !== undefined)
          checkSecret(`${where}.envFrom[${j}].secretRef`, str(get(e, 'secretRef', 'name')), []);
        if (get(e, 'configMapRef') !== undefined)
          checkConfigMap(`${where}.envFrom[${j}].configMapRef`, str(get(e, 'configMapRef', 'name')), []);
      });
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        for (const action of ['httpGet', 'tcpSocket', 'grpc']) {
          const port = get(c, probe, action, 'port');
          if (port === undefined) continue;
          const found =
            typeof port === 'number' ? ports.some((p) => p.port === port) : ports.some((p) => p.name === port);
          if (!found) report(`${where}.${probe}.${action}.port`, `the container has no port ${JSON.stringify(port)}`);
        }
      }
    });
  }
}

function checkReferences(
  d: Doc,
  docs: Doc[],
  templates: PodTemplate[],
  report: (path: string, message: string) => void,
) {
  const inNs = templates.filter((t) => t.doc.namespace === d.namespace);
  const selecting = (selector: Record<string, string>) => inNs.filter((t) => matches(selector, t.labels));
  if (d.kind === 'Service' && get(d.obj, 'spec', 'type') !== 'ExternalName') {
    const selector = strings(get(d.obj, 'spec', 'selector'));
    const selected = Object.keys(selector).length ? selecting(selector) : [];
    if (!selected.length) report('spec.selector', 'selects no pod template of the manifests');
    asArray(get(d.obj, 'spec', 'ports')).forEach((p, i) => {
      const target = get(p, 'targetPort');
      if (
        typeof target === 'string' &&
        selected.length &&
        !selected.every((t) => t.ports.some((cp) => cp.name === target))
      )
        report(`spec.ports[${i}].targetPort`, `no container port named "${target}" in the pods it selects`);
    });
  }
  if (d.kind === 'PodDisruptionBudget') {
    const selector = strings(get(d.obj, 'spec', 'selector', 'matchLabels'));
    if (!selecting(selector).length) report('spec.selector', 'selects no pod template of the manifests');
  }
  if (d.kind === 'NetworkPolicy') {
    const selector = strings(get(d.obj, 'spec', 'podSelector', 'matchLabels'));
    if (Object.keys(selector).length && !selecting(selector).length)
      report('spec.podSelector', 'selects no pod template of the manifests');
  }
  if (d.kind === 'HorizontalPodAutoscaler') {
    const ref = get(d.obj, 'spec', 'scaleTargetRef');
    const kind = str(get(ref, 'kind'));
    const name = str(get(ref, 'name'));
    if (!docs.some((x) => x.kind === kind && x.name === name && x.namespace === d.namespace))
      report('spec.scaleTargetRef', `${kind} "${name}" is not in the manifests`);
  }
  if (d.kind === 'ServiceMonitor') {
    const selector = strings(get(d.obj, 'spec', 'selector', 'matchLabels'));
    const services = docs.filter(
      (x) =>
        x.kind === 'Service' &&
        x.namespace === d.namespace &&
        matches(selector, strings(get(x.obj, 'metadata', 'labels'))),
    );
    if (!services.length) report('spec.selector', 'selects no Service of the manifests');
    asArray(get(d.obj, 'spec', 'endpoints')).forEach((e, i) => {
      const port = str(get(e, 'port'));
      if (
        port &&
        services.length &&
        !services.every((s) => asArray(get(s.obj, 'spec', 'ports')).some((p) => get(p, 'name') === port))
      )
        report(`spec.endpoints[${i}].port`, `no port named "${port}" in the Services it selects`);
    });
  }
}

export function validateManifests(files: Map<string, string>): OutputProblem[] {
  const problems: OutputProblem[] = [];
  const docs = parseDocs(files, problems);
  const namespaces = docs.filter((d) => d.kind === 'Namespace').map((d) => d.name);
  const namespaceName = namespaces.length === 1 ? namespaces[0] : undefined;
  const secrets = listedSecrets(files);
  const templates = podTemplates(docs);
  const seen = new Map<string, Doc>();
  for (const d of docs) {
    const report = (path: string, message: string) =>
      problems.push({
        file: d.file,
        path: path ? `[${d.index}].${path}` : `[${d.index}]`,
        message: `${d.kind || 'object'} ${d.name || '(unnamed)'}: ${message}`,
      });
    if (!checkSchema(d, report)) continue;
    checkMetadata(d, namespaceName, report);
    const group = String(d.obj.apiVersion).split('/').slice(0, -1).join('/');
    const id = `${group}/${d.kind}/${d.namespace ?? ''}/${d.name}`;
    const first = seen.get(id);
    if (first) report('metadata.name', `also defined in ${first.file} [${first.index}]`);
    else seen.set(id, d);
    checkReferences(d, docs, templates, report);
  }
  for (const t of templates) {
    checkPodTemplate(t, docs, secrets, (path, message) =>
      problems.push({
        file: t.doc.file,
        path: `[${t.doc.index}].${path}`,
        message: `${t.doc.kind} ${t.doc.name}: ${message}`,
      }),
    );
  }
  return problems;
}
