// Strict validation of the Kong outputs (kong/*.yaml) before anything is written:
//  - KongPlugin / KongClusterPlugin / KongConsumer against the project's own CRD schemas and each
//    plugin's `config` against the project's own plugin schema (unknown field = error);
//  - the decK file against the project's own decK schema, plugin configs included;
//  - Ingress, Service and EndpointSlice objects with kubernetes-models;
//  - references between them: every plugin a `konghq.com/plugins` annotation names exists, every
//    generated Service an Ingress names exists with that port (others are existing Services of the
//    namespace), every anonymous consumer a plugin names exists.
import type { ErrorObject } from 'ajv';
import { EndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { Service } from 'kubernetes-models/v1/Service';
import { kongValidator } from './kong-schemas/compiled.js';
import { crdSchemas, kongApiVersion } from './kong-schemas/crds.js';
import { deckSchema } from './kong-schemas/deck.js';
import { pluginSchemas } from './kong-schemas/plugins.js';
import type { OutputProblem } from './problem.js';
import { yamlDocuments } from './yaml-documents.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `/services/0/routes/1` → `services[0].routes[1]`. */
function dotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, s) => (/^[0-9]+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

const join = (base: string, rest: string) => (base && rest ? `${base}.${rest}` : base || rest);

function schemaProblems(schema: object, value: unknown, file: string, base: string): OutputProblem[] {
  const v = kongValidator(schema);
  if (v(value)) return [];
  const errors = (v.errors ?? []).filter((e) => !e.schemaPath.includes('/anyOf/'));
  return errors.map((e: ErrorObject) => {
    let path = join(base, dotted(e.instancePath));
    let message = e.message ?? 'is not valid';
    if (e.keyword === 'additionalProperties') {
      const field = String((e.params as { additionalProperty: string }).additionalProperty);
      path = join(path, field);
      message = 'unknown field';
    } else if (
      (e.keyword === 'anyOf' || e.keyword === 'pattern') &&
      isObj(e.parentSchema) &&
      typeof e.parentSchema['x-message'] === 'string'
    ) {
      message = e.parentSchema['x-message'];
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    }
    return { file, path, message };
  });
}

function pluginProblems(plugin: unknown, config: unknown, file: string, base: string): OutputProblem[] {
  const schema = typeof plugin === 'string' ? pluginSchemas[plugin] : undefined;
  if (!schema) return [{ file, path: base, message: `no schema for Kong plugin "${String(plugin)}"` }];
  return schemaProblems(schema, config ?? {}, file, join(base, 'config'));
}

interface K8sObject {
  file: string;
  where: string;
  doc: Json;
}

const meta = (doc: Json) => (isObj(doc.metadata) ? doc.metadata : {});
const objectName = (doc: Json) => `${String(doc.kind)}/${String(meta(doc).name)}`;

function kubernetesProblems(o: K8sObject, Model: new (data: never) => { validate(): void }): OutputProblem[] {
  try {
    new Model(o.doc as never).validate();
    return [];
  } catch (e) {
    return [{ file: o.file, path: o.where, message: (e as Error).message }];
  }
}

const ingressHost = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function ingressRuleProblems(o: K8sObject): OutputProblem[] {
  const problems: OutputProblem[] = [];
  const spec = isObj(o.doc.spec) ? o.doc.spec : {};
  if (spec.ingressClassName !== 'kong')
    problems.push({ file: o.file, path: `${o.where}.spec.ingressClassName`, message: 'must be "kong"' });
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  rules.forEach((r, i) => {
    if (isObj(r) && r.host !== undefined && !ingressHost.test(String(r.host)))
      problems.push({
        file: o.file,
        path: `${o.where}.spec.rules[${i}].host`,
        message: `"${String(r.host)}" is not a host name an Ingress accepts`,
      });
  });
  return problems;
}

/** Every (service name, port) an Ingress sends to. */
function ingressBackends(doc: Json): { path: string; name: string; port: unknown }[] {
  const spec = isObj(doc.spec) ? doc.spec : {};
  const out: { path: string; name: string; port: unknown }[] = [];
  (Array.isArray(spec.rules) ? spec.rules : []).forEach((r, i) => {
    const paths = isObj(r) && isObj(r.http) && Array.isArray(r.http.paths) ? r.http.paths : [];
    paths.forEach((p, j) => {
      const svc = isObj(p) && isObj(p.backend) && isObj(p.backend.service) ? p.backend.service : undefined;
      if (svc)
        out.push({
          path: `spec.rules[${i}].http.paths[${j}].backend.service`,
          name: String(svc.name),
          port: isObj(svc.port) ? svc.port.number : undefined,
        });
    });
  });
  return out;
}

function deckProblems(doc: Json, file: string): OutputProblem[] {
  const problems = schemaProblems(deckSchema, doc, file, '');
  const consumers = new Set(
    (Array.isArray(doc.consumers) ? doc.consumers : []).filter(isObj).map((c) => String(c.username)),
  );
  const plugins: { path: string; p: Json }[] = [];
  (Array.isArray(doc.services) ? doc.services : []).forEach((s, i) => {
    if (!isObj(s)) return;
    (Array.isArray(s.routes) ? s.routes : []).forEach((r, j) => {
      if (!isObj(r)) return;
      (Array.isArray(r.plugins) ? r.plugins : []).forEach((p, k) => {
        if (isObj(p)) plugins.push({ path: `services[${i}].routes[${j}].plugins[${k}]`, p });
      });
    });
  });
  (Array.isArray(doc.plugins) ? doc.plugins : []).forEach((p, k) => {
    if (isObj(p)) plugins.push({ path: `plugins[${k}]`, p });
  });
  for (const { path, p } of plugins) {
    problems.push(...pluginProblems(p.name, p.config, file, path));
    const anonymous = isObj(p.config) ? p.config.anonymous : undefined;
    if (anonymous !== undefined && !consumers.has(String(anonymous)))
      problems.push({
        file,
        path: `${path}.config.anonymous`,
        message: `no consumer "${String(anonymous)}" in this file`,
      });
  }
  for (const [what, names] of [
    ['service', (Array.isArray(doc.services) ? doc.services : []).filter(isObj).map((s) => s.name)],
    [
      'route',
      (Array.isArray(doc.services) ? doc.services : [])
        .filter(isObj)
        .flatMap((s) => (Array.isArray(s.routes) ? s.routes.filter(isObj).map((r) => r.name) : [])),
    ],
    ['consumer', (Array.isArray(doc.consumers) ? doc.consumers : []).filter(isObj).map((c) => c.username)],
  ] as const) {
    const seen = new Set<unknown>();
    for (const n of names) {
      if (seen.has(n)) problems.push({ file, path: '', message: `${what} "${String(n)}" appears twice` });
      seen.add(n);
    }
  }
  return problems;
}

/** Validates every `kong/*.yaml` file of a set of generated files. */
export function validateKong(files: Map<string, string>): OutputProblem[] {
  const problems: OutputProblem[] = [];
  const objects: K8sObject[] = [];
  for (const [file, text] of files) {
    if (!file.startsWith('kong/') || !file.endsWith('.yaml')) continue;
    for (const d of yamlDocuments(text)) {
      const i = d.index;
      if (d.error) {
        problems.push({ file, path: '', message: `not valid YAML: ${d.error}` });
        continue;
      }
      const doc = d.value;
      if (doc === null || doc === undefined) continue;
      if (!isObj(doc)) {
        problems.push({ file, path: `document ${i + 1}`, message: 'not an object' });
      } else if ('_format_version' in doc) {
        problems.push(...deckProblems(doc, file));
      } else {
        objects.push({ file, where: objectName(doc), doc });
      }
    }
  }
  const byKind = (kind: string) => objects.filter((o) => o.doc.kind === kind);
  for (const o of objects) {
    const { apiVersion, kind } = o.doc;
    if (apiVersion === kongApiVersion && typeof kind === 'string' && crdSchemas[kind]) {
      problems.push(...schemaProblems(crdSchemas[kind], o.doc, o.file, o.where));
      if (kind !== 'KongConsumer') problems.push(...pluginProblems(o.doc.plugin, o.doc.config, o.file, o.where));
    } else if (apiVersion === 'networking.k8s.io/v1' && kind === 'Ingress') {
      problems.push(...kubernetesProblems(o, Ingress), ...ingressRuleProblems(o));
    } else if (apiVersion === 'v1' && kind === 'Service') {
      problems.push(...kubernetesProblems(o, Service));
    } else if (apiVersion === 'discovery.k8s.io/v1' && kind === 'EndpointSlice') {
      problems.push(...kubernetesProblems(o, EndpointSlice));
    } else {
      problems.push({
        file: o.file,
        path: o.where,
        message: `unexpected object ${String(apiVersion)} ${String(kind)}`,
      });
    }
  }
  // References between the objects.
  const ns = (o: K8sObject) => String(meta(o.doc).namespace ?? '');
  const plugins = new Set(byKind('KongPlugin').map((o) => `${ns(o)}/${String(meta(o.doc).name)}`));
  const clusterPlugins = new Set(byKind('KongClusterPlugin').map((o) => String(meta(o.doc).name)));
  const services = byKind('Service');
  const usernames = new Set(byKind('KongConsumer').map((o) => String(o.doc.username)));
  for (const o of byKind('Ingress')) {
    const annotations = isObj(meta(o.doc).annotations) ? (meta(o.doc).annotations as Json) : {};
    const list = annotations['konghq.com/plugins'];
    for (const name of typeof list === 'string' ? list.split(',').map((s) => s.trim()) : []) {
      if (!plugins.has(`${ns(o)}/${name}`) && !clusterPlugins.has(name))
        problems.push({
          file: o.file,
          path: `${o.where}.metadata.annotations.konghq.com/plugins`,
          message: `no KongPlugin or KongClusterPlugin "${name}"`,
        });
    }
    // A Service named like the generated ones must be generated; others are existing Services of the namespace.
    const labels = isObj(meta(o.doc).labels) ? (meta(o.doc).labels as Json) : {};
    const generated = `${String(labels['app.kubernetes.io/part-of'])}-backend-`;
    for (const b of ingressBackends(o.doc)) {
      const svc = services.find((s) => ns(s) === ns(o) && meta(s.doc).name === b.name);
      const ports = svc && isObj(svc.doc.spec) && Array.isArray(svc.doc.spec.ports) ? svc.doc.spec.ports : [];
      if (!svc) {
        if (b.name.startsWith(generated))
          problems.push({ file: o.file, path: `${o.where}.${b.path}.name`, message: `no Service "${b.name}"` });
      } else if (!ports.some((p) => isObj(p) && p.port === b.port))
        problems.push({
          file: o.file,
          path: `${o.where}.${b.path}.port`,
          message: `Service "${b.name}" has no port ${String(b.port)}`,
        });
    }
  }
  for (const o of [...byKind('KongPlugin'), ...byKind('KongClusterPlugin')]) {
    const anonymous = isObj(o.doc.config) ? o.doc.config.anonymous : undefined;
    if (anonymous !== undefined && !usernames.has(String(anonymous)))
      problems.push({
        file: o.file,
        path: `${o.where}.config.anonymous`,
        message: `no KongConsumer with username "${String(anonymous)}"`,
      });
  }
  for (const kind of ['KongPlugin', 'KongClusterPlugin', 'KongConsumer', 'Ingress', 'Service', 'EndpointSlice']) {
    const seen = new Set<string>();
    for (const o of byKind(kind)) {
      const key = `${ns(o)}/${String(meta(o.doc).name)}`;
      if (seen.has(key)) problems.push({ file: o.file, path: o.where, message: `${kind} defined twice` });
      seen.add(key);
    }
  }
  return problems;
}
