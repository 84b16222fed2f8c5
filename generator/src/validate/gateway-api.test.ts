import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { compileFile, repoRoot } from '../../../test/support/compile-file.js';
import { emitGatewayApi } from '../emit/gateway-api/gateway-api.js';
import { existingBackendServices } from '../emit/ingress/backend-services.js';
import { emitIngressNginx } from '../emit/ingress/ingress-nginx.js';
import { ingressOutputFiles } from '../emit/ingress/shared.js';
import { validateIngressAndGatewayApi } from './gateway-api.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, changed by the tests below
type Json = Record<string, any>;

const cases = [
  'examples/gateway.yaml',
  ...fs
    .readdirSync(path.join(repoRoot, 'test/golden'))
    .filter((d) => fs.existsSync(path.join(repoRoot, 'test/golden', d, 'gateway.yaml')))
    .map((d) => `test/golden/${d}/gateway.yaml`),
  'generator/src/emit/ingress/testdata/split-and-edges.yaml',
];

function outputs(rel: string) {
  const { model } = compileFile(rel);
  const files = new Map([
    ...emitIngressNginx(model, 'gateway.yaml').files,
    ...emitGatewayApi(model, 'gateway.yaml').files,
  ]);
  return { files, existing: existingBackendServices(model) };
}

const docs = (text: string) => (parseAllDocuments(text) as { toJS(): Json }[]).map((d) => d.toJS());
const yaml = (objects: Json[]) => objects.map((o) => stringify(o)).join('---\n');

/** The failover-split-limits outputs with one object changed. */
function broken(file: string, change: (objects: Json[]) => void, existing?: string[]) {
  const { files, existing: ex } = outputs('test/golden/failover-split-limits/gateway.yaml');
  const objects = docs(files.get(file)!);
  change(objects);
  files.set(file, yaml(objects));
  return validateIngressAndGatewayApi(files, existing ?? ex).map((p) => `${p.file}: ${p.path}: ${p.message}`);
}

describe('validateIngressAndGatewayApi', () => {
  it.each(cases)('accepts the outputs of %s', (rel) => {
    const { files, existing } = outputs(rel);
    expect(files.has(ingressOutputFiles.gatewayApi)).toBe(true);
    expect(validateIngressAndGatewayApi(files, existing)).toEqual([]);
  });

  it('needs the existing Services of the namespace to accept references to them', () => {
    const { files, existing } = outputs('test/golden/body-dispatch/gateway.yaml');
    expect(existing).toEqual(['vllm']);
    expect(validateIngressAndGatewayApi(files).map((p) => p.message)).toEqual([
      'Service "vllm" is neither generated nor an existing backend Service',
      'Service "vllm" is neither generated nor an existing backend Service',
    ]);
  });

  it('checks every object against the upstream models, and names', () => {
    expect(
      broken(ingressOutputFiles.ingressNginx, (o) => {
        o[0].spec.rules[0].http.paths[0].pathType = 'Regex';
      }),
    ).toEqual([
      'manifests/ingress-nginx.yaml: Ingress/llm-gw-chat: invalid Ingress: data/spec/rules/0/http/paths/0/pathType ' +
        'must be equal to one of the allowed values',
    ]);
    expect(
      broken(ingressOutputFiles.gatewayApi, (o) => {
        o[1].metadata.name = 'Bad_Name';
      }),
    ).toEqual([
      'manifests/gateway-api.yaml: HTTPRoute/Bad_Name.metadata.name: HTTPRoute name "Bad_Name" is not a DNS-1123 subdomain',
    ]);
    expect(
      broken(ingressOutputFiles.backendServices, (o) => {
        o[0].metadata.name = '1-backend';
      }),
    ).toEqual(
      expect.arrayContaining([
        'manifests/backend-services.yaml: Service/1-backend.metadata.name: Service name "1-backend" is not a DNS-1035 ' +
          'label (a letter, then letters, digits and "-", at most 63)',
      ]),
    );
  });

  it('checks that HTTPRoutes attach to the generated Gateway and its listeners', () => {
    expect(
      broken(ingressOutputFiles.gatewayApi, (o) => {
        o[1].spec.parentRefs = [{ name: 'other' }, { name: 'llm-gw', sectionName: 'private' }];
      }),
    ).toEqual([
      'manifests/gateway-api.yaml: HTTPRoute/llm-gw-public.spec.parentRefs[0].name: names no generated Gateway ("other")',
      'manifests/gateway-api.yaml: HTTPRoute/llm-gw-public.spec.parentRefs[1].sectionName: Gateway "llm-gw" has no listener "private"',
    ]);
  });

  it('checks that every backend names a generated Service and one of its ports', () => {
    expect(
      broken(ingressOutputFiles.gatewayApi, (o) => {
        o[1].spec.rules[1].backendRefs[0].port = 9999;
        o[1].spec.rules[1].backendRefs[1].name = 'nowhere';
      }),
    ).toEqual([
      'manifests/gateway-api.yaml: HTTPRoute/llm-gw-public.spec.rules[1].backendRefs[0].name: Service "llm-gw-backend-blue" has no port 9999',
      'manifests/gateway-api.yaml: HTTPRoute/llm-gw-public.spec.rules[1].backendRefs[1].name: Service "nowhere" is ' +
        'neither generated nor an existing backend Service',
    ]);
    expect(
      broken(ingressOutputFiles.backendServices, (o) => {
        o.splice(0, 1);
      }),
    ).toEqual([
      'manifests/gateway-api.yaml: HTTPRoute/llm-gw-public.spec.rules[0].backendRefs[0].name: Service ' +
        '"llm-gw-backend-primary" is neither generated nor an existing backend Service',
      'manifests/ingress-nginx.yaml: Ingress/llm-gw-chat.spec.rules[0].http.paths[0].backend.service.name: Service ' +
        '"llm-gw-backend-primary" is neither generated nor an existing backend Service',
    ]);
  });

  it('checks that every route is protected by ext-authz and that no two Ingresses share a path', () => {
    expect(
      broken(ingressOutputFiles.ingressNginx, (o) => {
        delete o[0].metadata.annotations['nginx.ingress.kubernetes.io/auth-url'];
        o[1].spec.rules[0].http.paths[0].path = o[0].spec.rules[0].http.paths[0].path;
      }),
    ).toEqual([
      'manifests/ingress-nginx.yaml: Ingress/llm-gw-chat.metadata.annotations.nginx.ingress.kubernetes.io/auth-url: ' +
        'every route must be protected by ext-authz (auth-url with ?policy=)',
      'manifests/ingress-nginx.yaml: Ingress/llm-gw-app.spec.rules: same host and path as Ingress "llm-gw-chat": ' +
        'ingress-nginx would keep only one',
      'manifests/ingress-nginx.yaml: Ingress/llm-gw-app.canary.spec.rules: a canary Ingress needs a main Ingress on ' +
        'the same host and path',
    ]);
  });

  it('refuses to generate a Service that already exists', () => {
    expect(broken(ingressOutputFiles.backendServices, () => {}, ['llm-gw-backend-blue'])).toEqual([
      'manifests/backend-services.yaml: Service/llm-gw-backend-blue.metadata.name: Service "llm-gw-backend-blue" ' +
        'already exists: it must not be generated',
    ]);
  });
});
