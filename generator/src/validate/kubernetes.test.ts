import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { compileFile } from '../../../test/support/compile-file.js';
import type { CompileResult } from '../compile.js';
import { compileGateway, outputFiles } from '../compile.js';
import { parseGatewaySource } from '../config/source.js';
import { emitManifests } from '../emit/kubernetes/index.js';
import { validateManifests } from './kubernetes.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read by the assertions below
type Obj = Record<string, any>;

function manifests(c: CompileResult): Map<string, string> {
  const f = c.files;
  return emitManifests(
    c.model,
    { envoy: f.get(outputFiles.envoy)!, ratelimit: f.get(outputFiles.ratelimit)!, policy: f.get(outputFiles.policy)! },
    'gateway.yaml',
  ).files;
}

/** The manifests with `file`'s documents changed by `edit` (return undefined to drop one). */
function edited(files: Map<string, string>, file: string, edit: (o: Obj) => Obj | undefined): Map<string, string> {
  const docs = parseAllDocuments(files.get(file)!)
    .map((d) => edit(d.toJS() as Obj))
    .filter((o) => o !== undefined);
  return new Map([...files, [file, docs.map((o) => stringify(o)).join('---\n')]]);
}

const example = manifests(compileFile('examples/gateway.yaml'));
const inCluster = manifests(
  compileGateway(
    parseGatewaySource(
      `version: 1
listeners: [{ name: public, port: 80 }]
backends: [{ name: llm, kind: openai-compatible, url: "http://vllm:8000" }]
routes: [{ name: all, match: { path: { prefix: / } }, backend: llm, auth: anonymous }]
limits: [{ name: per-ip, per: ip, requests: 10/second }]
services: { redis: { password: { secret: { name: redis, key: password } } } }
kubernetes: { resource_quota: { cpu: "8" } }
`,
      'gateway.yaml',
    ),
  ),
);

describe('validateManifests', () => {
  it('accepts the manifests of the example and of a gateway with an in-cluster Redis', () => {
    expect(validateManifests(example)).toEqual([]);
    expect([...inCluster.keys()]).toContain('manifests/redis.yaml');
    expect(validateManifests(inCluster)).toEqual([]);
  });

  it('reports a field of the wrong type, with its path', () => {
    const files = edited(example, 'manifests/envoy.yaml', (o) =>
      o.kind === 'Deployment' ? { ...o, spec: { ...o.spec, replicas: 'two' } } : o,
    );
    expect(validateManifests(files)).toEqual([
      {
        file: 'manifests/envoy.yaml',
        path: '[3].spec.replicas',
        message: 'Deployment ai-gateway-envoy: must be integer',
      },
    ]);
  });

  it('checks the Ingress and Gateway API objects against their schemas too (gen build leaves that to it)', () => {
    const all = new Map([...compileFile('examples/gateway.yaml').files].filter(([f]) => f.startsWith('manifests/')));
    expect(validateManifests(all)).toEqual([]);
    let files = edited(all, 'manifests/ingress-nginx.yaml', (o) =>
      o.kind === 'Ingress' && o.metadata.name === 'ai-gateway-models' ? { ...o, spec: { ...o.spec, rules: 'all' } } : o,
    );
    files = edited(files, 'manifests/gateway-api.yaml', (o) =>
      o.kind === 'HTTPRoute' && o.metadata.name === 'ai-gateway-public'
        ? { ...o, spec: { ...o.spec, hostnames: 7 } }
        : o,
    );
    const problems = validateManifests(files).map((p) => `${p.file} ${p.message}`);
    expect(problems).toContain('manifests/ingress-nginx.yaml Ingress ai-gateway-models: must be array');
    expect(problems).toContain('manifests/gateway-api.yaml HTTPRoute ai-gateway-public: must be array');
  });

  it('reports a Service that selects no pod, and a target port no pod has', () => {
    const files = edited(example, 'manifests/ext-authz.yaml', (o) =>
      o.kind === 'Service' ? { ...o, spec: { ...o.spec, selector: { 'app.kubernetes.io/name': 'nothing' } } } : o,
    );
    expect(validateManifests(files)).toEqual([
      {
        file: 'manifests/ext-authz.yaml',
        path: '[2].spec.selector',
        message: 'Service ext-authz: selects no pod template of the manifests',
      },
    ]);
    const ports = edited(example, 'manifests/ratelimit.yaml', (o) => {
      if (o.kind === 'Service') o.spec.ports[1].targetPort = 'metrics';
      return o;
    });
    expect(validateManifests(ports).map((p) => p.message)).toEqual([
      'Service ratelimit: no container port named "metrics" in the pods it selects',
    ]);
  });

  it('reports unknown kinds, Secrets, bad names and missing namespaces', () => {
    const files = new Map(example);
    files.set(
      'manifests/extra.yaml',
      [
        { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ai-gateway' } },
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'leak', namespace: 'ai-gateway' },
          stringData: { k: 'v' },
        },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace: 'ai-gateway' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no-namespace' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere', namespace: 'other' } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ai-gateway-envoy', namespace: 'ai-gateway' } },
      ]
        .map((o) => stringify(o))
        .join('---\n'),
    );
    expect(validateManifests(files)).toEqual([
      { file: 'manifests/extra.yaml', path: '[0]', message: 'Widget w: unknown kind example.com/v1 Widget' },
      {
        file: 'manifests/extra.yaml',
        path: '[1]',
        message: 'Secret leak: the manifests never hold a Secret: list it in manifests/README.md for the operator',
      },
      {
        file: 'manifests/extra.yaml',
        path: '[2].metadata.name',
        message: 'ConfigMap Bad_Name: "Bad_Name" is not a DNS-1123 subdomain',
      },
      {
        file: 'manifests/extra.yaml',
        path: '[3].metadata.namespace',
        message: 'ConfigMap no-namespace: is required (every object goes into the gateway namespace)',
      },
      {
        file: 'manifests/extra.yaml',
        path: '[4].metadata.namespace',
        message: 'ConfigMap elsewhere: "other" is not the namespace these manifests create ("ai-gateway")',
      },
      {
        file: 'manifests/extra.yaml',
        path: '[5].metadata.name',
        message: 'ServiceAccount ai-gateway-envoy: also defined in manifests/envoy.yaml [0]',
      },
    ]);
  });

  it('reports volumes of ConfigMaps and Secrets that nobody creates, and probes on missing ports', () => {
    const files = edited(example, 'manifests/ext-authz.yaml', (o) => {
      if (o.kind !== 'Deployment') return o;
      const pod = o.spec.template.spec;
      pod.volumes[0].configMap.name = 'missing-policy';
      pod.volumes[1].secret.secretName = 'unlisted';
      pod.containers[0].readinessProbe.httpGet.port = 'admin';
      pod.containers[0].livenessProbe.httpGet.port = 9002;
      pod.containers[0].volumeMounts.push({ name: 'nowhere', mountPath: '/x' });
      return o;
    });
    expect(validateManifests(files).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '[3].spec.template.spec.volumes[0].configMap: Deployment ai-gateway-ext-authz: ConfigMap "missing-policy" is not in the manifests',
      '[3].spec.template.spec.volumes[1].secret: Deployment ai-gateway-ext-authz: Secret "unlisted" is not listed in manifests/README.md\'s kubectl create secret lines',
      '[3].spec.template.spec.containers[0].volumeMounts[3].name: Deployment ai-gateway-ext-authz: no volume "nowhere" in the pod',
      '[3].spec.template.spec.containers[0].readinessProbe.httpGet.port: Deployment ai-gateway-ext-authz: the container has no port "admin"',
    ]);
  });

  it('reports a Redis password Secret key that the README does not list', () => {
    const files = new Map(inCluster);
    files.set(
      'manifests/README.md',
      files.get('manifests/README.md')!.replace('--from-literal=password=', '--from-literal=pass='),
    );
    expect(validateManifests(files).map((p) => p.message)).toEqual([
      'Deployment ai-gateway-ratelimit: key "password" of Secret "redis" is not listed in manifests/README.md',
      'StatefulSet ai-gateway-redis: key "password" of Secret "redis" is not listed in manifests/README.md',
    ]);
  });

  it('reports a file that is not YAML', () => {
    const files = new Map(example);
    files.set('manifests/broken.yaml', 'kind: [unclosed\n');
    expect(validateManifests(files)).toEqual([
      { file: 'manifests/broken.yaml', path: '[0]', message: expect.stringContaining('not valid YAML') },
    ]);
  });
});
