// One JSON line per request on stdout; identities come from ext-authz's dynamic metadata.
// Never a header that could carry a credential.
import { authzMetadataNamespace } from '../names.js';
import { type Json, typeUrls } from './type-urls.js';

const md = (key: string) => `%DYNAMIC_METADATA(${authzMetadataNamespace}:${key})%`;

export function accessLog(): Json[] {
  return [
    {
      name: 'envoy.access_loggers.stdout',
      typed_config: {
        '@type': typeUrls.stdoutAccessLog,
        log_format: {
          json_format: {
            time: '%START_TIME%',
            request_id: '%REQ(X-REQUEST-ID)%',
            method: '%REQ(:METHOD)%',
            path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
            protocol: '%PROTOCOL%',
            status: '%RESPONSE_CODE%',
            flags: '%RESPONSE_FLAGS%',
            details: '%RESPONSE_CODE_DETAILS%',
            route: '%ROUTE_NAME%',
            upstream_cluster: '%UPSTREAM_CLUSTER%',
            upstream_host: '%UPSTREAM_HOST%',
            duration_ms: '%DURATION%',
            upstream_ms: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
            bytes_in: '%BYTES_RECEIVED%',
            bytes_out: '%BYTES_SENT%',
            client_ip: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%',
            client: md('client'),
            tenant: md('tenant'),
            model: md('model'),
            estimated_tokens: md('estimated_tokens'),
          },
        },
      },
    },
  ];
}
