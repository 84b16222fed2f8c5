import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileGateway } from '../compile.js';
import { parseGatewaySource } from '../config/source.js';

const example = fs.readFileSync('examples/gateway.yaml', 'utf8');
const withOutputs = (outputs: string) => example.replace(/^version: 1$/m, `version: 1\noutputs: ${outputs}`);
const dirs = (outputs: string) =>
  [
    ...new Set(
      [...compileGateway(parseGatewaySource(withOutputs(outputs), 'gateway.yaml')).files.keys()].map((f) =>
        f.startsWith('manifests/') ? f : f.split('/')[0],
      ),
    ),
  ].sort();

describe('gateway.yaml outputs', () => {
  it('writes only the deployment outputs asked for, always with the Envoy and service configs', () => {
    expect(dirs('[]')).toEqual(['envoy', 'ext-authz', 'ratelimit']);
    expect(dirs('[kong]')).toEqual(['envoy', 'ext-authz', 'kong', 'ratelimit']);
    const k8s = dirs('[kubernetes]');
    expect(k8s).toContain('manifests/envoy.yaml');
    expect(k8s).not.toContain('manifests/ingress-nginx.yaml');
    expect(k8s).not.toContain('manifests/gateway-api.yaml');
    expect(k8s).not.toContain('kong');
  });

  it('brings manifests/ with ingress-nginx and gateway-api (they point at its Services)', () => {
    const d = dirs('[ingress-nginx]');
    expect(d).toContain('manifests/ingress-nginx.yaml');
    expect(d).toContain('manifests/ext-authz.yaml');
    expect(d).not.toContain('manifests/gateway-api.yaml');
  });

  it('all of them when absent, the same files as listing every one', () => {
    const all = [...compileGateway(parseGatewaySource(example, 'gateway.yaml')).files.keys()];
    expect(dirs('[kubernetes, ingress-nginx, gateway-api, kong]')).toEqual(
      [...new Set(all.map((f) => (f.startsWith('manifests/') ? f : f.split('/')[0])))].sort(),
    );
  });
});
