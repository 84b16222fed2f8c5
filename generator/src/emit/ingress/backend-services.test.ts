import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileFile } from '../../../../test/support/compile-file.js';
import type { Backend } from '../../model/types.js';
import { backendServicesFile, backendTarget, existingBackendServices, serviceName } from './backend-services.js';
import { ingressOutputFiles } from './shared.js';

const { model } = compileFile('generator/src/emit/ingress/testdata/split-and-edges.yaml');
const backend = (url: string): Backend => {
  const u = new URL(url);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  return {
    name: 'b',
    kind: 'http',
    scheme,
    host: u.hostname,
    port: Number(u.port || (scheme === 'https' ? 443 : 80)),
    sni: u.hostname,
    connectTimeoutMs: 1000,
    maxConnections: 1,
  };
};
const kind = (url: string) => {
  const t = backendTarget(model, backend(url));
  if (t.kind === 'existing') return `existing ${t.service}`;
  return t.kind === 'external-name' ? `external-name ${t.externalName}` : `unreachable: ${t.reason}`;
};

describe('backendTarget', () => {
  it('references Services of the gateway namespace (llm) as they are', () => {
    expect(kind('http://small:8000')).toBe('existing small');
    expect(kind('http://small.llm:8000')).toBe('existing small');
    expect(kind('http://small.llm.svc:8000')).toBe('existing small');
    expect(kind('http://small.llm.svc.cluster.local:8000')).toBe('existing small');
  });

  it('reaches everything else through an ExternalName Service, fully qualified', () => {
    expect(kind('http://vllm.models.svc.cluster.local:8000')).toBe('external-name vllm.models.svc.cluster.local');
    expect(kind('http://vllm.models.svc:8000')).toBe('external-name vllm.models.svc.cluster.local');
    expect(kind('https://api.openai.com')).toBe('external-name api.openai.com');
    expect(kind('http://blue.apps:8080')).toBe('external-name blue.apps');
  });

  it('points an ExternalName at an IPv4 address (ingress-nginx connects to it), never at this machine', () => {
    expect(kind('http://10.1.2.3:8080')).toBe('external-name 10.1.2.3');
    expect(kind('http://[fd00::1]:8080')).toBe('unreachable: an ExternalName cannot be an IPv6 address');
    expect(kind('http://127.0.0.1:8080')).toBe("unreachable: 127.0.0.1 is this machine's own address");
    expect(kind('http://[::1]:8080')).toBe("unreachable: ::1 is this machine's own address");
    expect(kind('http://localhost:8080')).toBe("unreachable: localhost is this machine's own address");
  });
});

describe('backend Services', () => {
  it('names them as DNS-1035 labels, shortened with a stable hash', () => {
    expect(serviceName('edge-backend-next')).toBe('edge-backend-next');
    expect(serviceName('1gw-backend-x')).toBe('b-1gw-backend-x');
    const long = serviceName(`${'g'.repeat(60)}-backend-${'b'.repeat(60)}`);
    expect(long).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(serviceName(`${'g'.repeat(60)}-backend-${'c'.repeat(60)}`)).not.toBe(long);
  });

  it('writes the ExternalName Services and lists the existing Services apart', () => {
    const objects = parseAllDocuments(
      backendServicesFile(model, 'gateway.yaml').get(ingressOutputFiles.backendServices)!,
    ).map((d) => d.toJS());
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Service/edge-backend-next',
      'Service/edge-backend-metal',
      'Service/edge-backend-cloud',
    ]);
    expect(objects[0].spec).toEqual({
      type: 'ExternalName',
      externalName: 'next.models.svc.cluster.local',
      ports: [{ name: 'http', protocol: 'TCP', port: 8000, targetPort: 8000 }],
    });
    expect(objects[1].spec).toMatchObject({ type: 'ExternalName', externalName: '10.1.2.3' });
    // "local" (127.0.0.1) is routed to but cannot be a Service; "small" exists in namespace llm.
    expect(objects.some((o) => o.metadata.name === 'edge-backend-local')).toBe(false);
    expect(existingBackendServices(model)).toEqual(['small']);
  });
});
