// The headers only the gateway may set. Envoy removes them from every client request before the
// first route match (early header mutation), so a client can never choose a route, an identity
// or a provider credential by sending them.
import type { GatewayModel } from '../../model/types.js';
import {
  bodyFieldHeader,
  credentialHeader,
  dispatchHeader,
  estimatedTokensHeader,
  identityHeaders,
  personalDataHeader,
} from '../names.js';

export function reservedHeaders(model: GatewayModel): string[] {
  const fields = new Set(model.dispatchGroups.flatMap((g) => g.fields));
  return [
    ...Object.values(identityHeaders),
    dispatchHeader,
    personalDataHeader,
    estimatedTokensHeader,
    ...[...fields].sort().map(bodyFieldHeader),
    ...model.backends.filter((b) => b.credential).map((b) => credentialHeader(b.name)),
  ];
}
