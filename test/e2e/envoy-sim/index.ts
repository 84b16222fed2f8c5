// A stand-in for Envoy in end-to-end tests: plays the rendered envoy.yaml (listeners, connection
// manager, routes, ext_authz and ratelimit over real gRPC, router, upstream filters). See README.md.
export { SimConfigError, SimUnsupportedError } from './bootstrap.js';
export { HeaderMap } from './header-map.js';
export {
  buildDescriptor,
  buildDescriptors,
  type Descriptor,
  type DescriptorContext,
} from './rate-limit-descriptors.js';
export { defaultSourceIp, EnvoySimulator, simulatedLocalAddress } from './simulator.js';
export type { SimOptions, SimRequest, SimResult } from './types.js';
export { xRateLimitHeaders } from './x-ratelimit-headers.js';
