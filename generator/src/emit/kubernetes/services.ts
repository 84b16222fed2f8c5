// Services. ext-authz and the rate-limit service are headless: Envoy's STRICT_DNS clusters then
// see every ready pod and balance requests over them (a ClusterIP would pin each HTTP/2
// connection, and so all of one Envoy's calls, to one pod). Their names are the hosts Envoy calls.
import type { IService } from 'kubernetes-models/v1';
import type { GatewayModel } from '../../model/types.js';
import { metadata, type Part, partLabels, type ServiceNames, selectorLabels } from './labels.js';
import type { PortPlan } from './ports.js';

type ServicePort = NonNullable<NonNullable<IService['spec']>['ports']>[number];

const grpcPort = (port: number): ServicePort => ({
  name: 'grpc',
  port,
  targetPort: 'grpc',
  protocol: 'TCP',
  appProtocol: 'kubernetes.io/h2c',
});
const httpPort = (name: string, port: number): ServicePort => ({
  name,
  port,
  targetPort: name,
  protocol: 'TCP',
  appProtocol: 'http',
});

function service(model: GatewayModel, part: Part, name: string, ports: ServicePort[], headless: boolean): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(model, name, partLabels(model, part)),
    spec: {
      type: 'ClusterIP',
      ...(headless ? { clusterIP: 'None' } : {}),
      selector: selectorLabels(model, part),
      ports,
    },
  };
}

export function envoyService(model: GatewayModel, names: ServiceNames, ports: PortPlan): IService {
  return service(
    model,
    'envoy',
    names.envoy,
    [...ports.envoy.listeners.map((l) => httpPort(l.name, l.port)), httpPort('stats', ports.envoy.stats)],
    false,
  );
}

export function extAuthzService(model: GatewayModel, names: ServiceNames, ports: PortPlan): IService {
  return service(
    model,
    'ext-authz',
    names.extAuthz,
    [grpcPort(ports.extAuthz.grpc), httpPort('http', ports.extAuthz.http)],
    true,
  );
}

export function ratelimitService(model: GatewayModel, names: ServiceNames, ports: PortPlan): IService {
  return service(
    model,
    'ratelimit',
    names.ratelimit,
    [grpcPort(ports.ratelimit.grpc), httpPort('http', ports.ratelimit.http)],
    true,
  );
}

export function redisService(model: GatewayModel, names: ServiceNames, ports: PortPlan): IService {
  return service(
    model,
    'redis',
    names.redis,
    [{ name: 'redis', port: ports.redis, targetPort: 'redis', protocol: 'TCP', appProtocol: 'redis' }],
    false,
  );
}
