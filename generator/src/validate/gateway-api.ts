// Strict checks of the ingress-nginx, Gateway API and backend Service manifests before the output
// folder changes: every object against the upstream models (kubernetes-models,
// @kubernetes-models/gateway-api; gen build leaves that to validateManifests, which checks the same
// files of manifests/), names, and the references between the files (parentRefs name
// the generated Gateway and its listeners, every backend names a generated or existing Service
// and one of its ports, every non-canary Ingress is protected by ext-authz).
import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { Service } from 'kubernetes-models/v1/Service';
import { ingressOutputFiles } from '../emit/ingress/shared.js';
import type { OutputProblem } from './problem.js';
import { yamlDocuments } from './yaml-documents.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any shape, checked field by field below
type Json = Record<string, any>;

// biome-ignore lint/suspicious/noExplicitAny: each model takes its own object type
const models: Record<string, Record<string, new (data: any) => { validate(): void }>> = {
  v1: { Service },
  'networking.k8s.io/v1': { Ingress },
  'gateway.networking.k8s.io/v1': { Gateway, HTTPRoute },
};

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const nginx = 'nginx.ingress.kubernetes.io/';

interface Doc {
  file: string;
  obj: Json;
  where: string;
}

function nameProblem(kind: string, name: unknown): string | undefined {
  if (typeof name !== 'string' || !name) return 'metadata.name is missing';
  if (kind === 'Service') {
    if (name.length > 63 || !dns1035Label.test(name))
      return `Service name "${name}" is not a DNS-1035 label (a letter, then letters, digits and "-", at most 63)`;
  } else if (name.length > 253 || !dns1123Subdomain.test(name)) {
    return `${kind} name "${name}" is not a DNS-1123 subdomain`;
  }
  return undefined;
}

/**
 * Checks the files of this family present in `files` (others are ignored). `existingServices`:
 * Services of the namespace that the outputs reference without generating them
 * (`existingBackendServices(model)`).
 */
export function validateIngressAndGatewayApi(
  files: Map<string, string>,
  existingServices: Iterable<string> = [],
  /**
   * false: leave out the check of each object against its model, when validateManifests checks
   * the same files (gen build: these outputs always come with manifests/).
   */
  opts: { schemas?: boolean } = {},
): OutputProblem[] {
  const problems: OutputProblem[] = [];
  const docs: Doc[] = [];
  for (const file of Object.values(ingressOutputFiles)) {
    const text = files.get(file);
    if (text === undefined) continue;
    yamlDocuments(text).forEach((d) => {
      const i = d.index;
      if (d.error) {
        problems.push({ file, path: `[${i}]`, message: `not valid YAML: ${d.error}` });
        return;
      }
      const obj = (d.value ?? null) as Json | null;
      if (obj === null) return;
      docs.push({ file, obj, where: `${obj?.kind ?? `[${i}]`}/${obj?.metadata?.name ?? i}` });
    });
  }
  const add = (d: Doc, path: string, message: string) =>
    problems.push({ file: d.file, path: path ? `${d.where}.${path}` : d.where, message });

  // Each object on its own.
  const namespaces = new Set<string>();
  const seenNames = new Set<string>();
  for (const d of docs) {
    const { apiVersion, kind } = d.obj;
    const Model = models[apiVersion]?.[kind];
    if (!Model) {
      add(d, '', `unexpected object ${apiVersion} ${kind}`);
      continue;
    }
    if (opts.schemas !== false) {
      try {
        new Model(d.obj).validate();
      } catch (e) {
        add(d, '', `invalid ${kind}: ${(e as Error).message}`);
      }
    }
    const problem = nameProblem(kind, d.obj.metadata?.name);
    if (problem) add(d, 'metadata.name', problem);
    const ns = d.obj.metadata?.namespace;
    if (typeof ns !== 'string' || !dns1123Label.test(ns)) add(d, 'metadata.namespace', 'missing or invalid namespace');
    else namespaces.add(ns);
    const id = `${apiVersion} ${kind} ${ns}/${d.obj.metadata?.name}`;
    if (seenNames.has(id)) add(d, 'metadata.name', `${kind} "${d.obj.metadata?.name}" is generated twice`);
    seenNames.add(id);
  }
  if (namespaces.size > 1)
    problems.push({
      file: docs[0].file,
      path: '',
      message: `objects are spread over namespaces ${[...namespaces].join(', ')}: references between them cannot resolve`,
    });

  // Services: generated ones with their ports, and the existing ones (any port).
  const servicePorts = new Map<string, Set<number> | 'any'>();
  for (const s of existingServices) servicePorts.set(s, 'any');
  for (const d of docs.filter((x) => x.obj.kind === 'Service')) {
    const spec = d.obj.spec ?? {};
    const name = d.obj.metadata?.name as string;
    if (servicePorts.get(name) === 'any')
      add(d, 'metadata.name', `Service "${name}" already exists: it must not be generated`);
    const ports = (spec.ports ?? []) as Json[];
    if (!ports.length) add(d, 'spec.ports', 'a backend Service needs a port');
    ports.forEach((p, i) => {
      if (typeof p.targetPort !== 'number')
        add(d, `spec.ports[${i}].targetPort`, 'set it: ingress-nginx connects to it');
    });
    if (spec.type === 'ExternalName') {
      const n = spec.externalName;
      if (typeof n !== 'string' || n.length > 253 || !dns1123Subdomain.test(n))
        add(d, 'spec.externalName', `"${n}" is not a DNS name`);
    }
    servicePorts.set(name, new Set(ports.map((p) => p.port as number)));
  }
  const checkBackend = (d: Doc, path: string, name: unknown, port: unknown) => {
    const ports = servicePorts.get(name as string);
    if (!ports) add(d, path, `Service "${name}" is neither generated nor an existing backend Service`);
    else if (ports !== 'any' && !ports.has(port as number)) add(d, path, `Service "${name}" has no port ${port}`);
  };

  // Gateway and HTTPRoutes.
  const gateways = new Map<string, Set<string>>();
  for (const d of docs.filter((x) => x.obj.kind === 'Gateway')) {
    const listeners = (d.obj.spec?.listeners ?? []) as Json[];
    gateways.set(d.obj.metadata?.name, new Set(listeners.map((l) => l.name)));
    listeners.forEach((l, i) => {
      if (l.protocol === 'HTTPS' && !l.tls?.certificateRefs?.length)
        add(d, `spec.listeners[${i}].tls`, 'an HTTPS listener needs certificateRefs');
    });
  }
  for (const d of docs.filter((x) => x.obj.kind === 'HTTPRoute')) {
    const spec = d.obj.spec ?? {};
    const parents = (spec.parentRefs ?? []) as Json[];
    if (!parents.length) add(d, 'spec.parentRefs', 'the HTTPRoute is attached to nothing');
    parents.forEach((p, i) => {
      const path = `spec.parentRefs[${i}]`;
      const listeners = gateways.get(p.name);
      if (
        (p.kind ?? 'Gateway') !== 'Gateway' ||
        (p.group ?? 'gateway.networking.k8s.io') !== 'gateway.networking.k8s.io'
      )
        add(d, path, 'must name a Gateway');
      else if (!listeners) add(d, `${path}.name`, `names no generated Gateway ("${p.name}")`);
      else if (p.sectionName !== undefined && !listeners.has(p.sectionName))
        add(d, `${path}.sectionName`, `Gateway "${p.name}" has no listener "${p.sectionName}"`);
      if (p.namespace !== undefined && p.namespace !== d.obj.metadata?.namespace)
        add(d, `${path}.namespace`, "the Gateway is generated in the HTTPRoute's namespace");
    });
    ((spec.rules ?? []) as Json[]).forEach((rule, i) => {
      const refs = (rule.backendRefs ?? []) as Json[];
      if (!refs.length) add(d, `spec.rules[${i}].backendRefs`, 'a rule without backends answers 500');
      refs.forEach((r, j) => {
        const path = `spec.rules[${i}].backendRefs[${j}]`;
        if ((r.kind ?? 'Service') !== 'Service' || (r.group ?? '') !== '') add(d, path, 'must name a Service');
        else if (r.namespace !== undefined && r.namespace !== d.obj.metadata?.namespace)
          add(d, `${path}.namespace`, 'a Service in another namespace needs a ReferenceGrant');
        else checkBackend(d, `${path}.name`, r.name, r.port);
      });
    });
  }

  // Ingresses: backends, ext-authz on every route, one Ingress per host and path (plus canaries).
  const mains = new Map<string, string>();
  const ingresses = docs.filter((x) => x.obj.kind === 'Ingress');
  const pathKeys = (d: Doc) =>
    ((d.obj.spec?.rules ?? []) as Json[]).flatMap((rule) =>
      ((rule.http?.paths ?? []) as Json[]).map((p) => `${rule.host ?? '*'} ${p.pathType} ${p.path}`),
    );
  const isCanary = (d: Doc) => d.obj.metadata?.annotations?.[`${nginx}canary`] === 'true';
  for (const d of ingresses) {
    const spec = d.obj.spec ?? {};
    ((spec.rules ?? []) as Json[]).forEach((rule, i) => {
      ((rule.http?.paths ?? []) as Json[]).forEach((p, j) => {
        const path = `spec.rules[${i}].http.paths[${j}].backend.service`;
        if (!p.backend?.service) add(d, path, 'must name a Service');
        else checkBackend(d, `${path}.name`, p.backend.service.name, p.backend.service.port?.number);
      });
    });
    if (isCanary(d)) continue;
    const url = d.obj.metadata?.annotations?.[`${nginx}auth-url`];
    let policy: string | null = null;
    try {
      policy = new URL(url).searchParams.get('policy');
    } catch {}
    if (!policy)
      add(
        d,
        `metadata.annotations.${nginx}auth-url`,
        'every route must be protected by ext-authz (auth-url with ?policy=)',
      );
    for (const key of pathKeys(d)) {
      const other = mains.get(key);
      if (other) add(d, 'spec.rules', `same host and path as Ingress "${other}": ingress-nginx would keep only one`);
      mains.set(key, d.obj.metadata?.name);
    }
  }
  for (const d of ingresses.filter(isCanary)) {
    if (!pathKeys(d).every((k) => mains.has(k)))
      add(d, 'spec.rules', 'a canary Ingress needs a main Ingress on the same host and path');
  }
  return problems;
}
