// What the manifests cannot provide and the operator must: credentials from environment
// variables or files (gateway.yaml names them, a manifest cannot fill them without holding the
// value), JWKS files, and a Redis password that is not a Kubernetes Secret.
import type { GatewayModel } from '../../model/types.js';

export interface OperatorInput {
  /** Which container needs it. */
  container: 'ext-authz' | 'ratelimit';
  kind: 'env' | 'file';
  /** Variable name or absolute path. */
  name: string;
  purpose: string;
}

export function operatorInputs(model: GatewayModel): OperatorInput[] {
  const out: OperatorInput[] = [];
  for (const b of model.backends) {
    const s = b.credential?.source;
    if (s?.kind === 'env')
      out.push({ container: 'ext-authz', kind: 'env', name: s.name, purpose: `provider key of backend ${b.name}` });
    if (s?.kind === 'file')
      out.push({ container: 'ext-authz', kind: 'file', name: s.path, purpose: `provider key of backend ${b.name}` });
  }
  for (const p of model.jwtProviders) {
    if (p.jwks.file)
      out.push({ container: 'ext-authz', kind: 'file', name: p.jwks.file, purpose: `JWKS of JWT provider ${p.name}` });
  }
  const pw = model.services.redis.password;
  if (pw?.kind === 'env' || pw?.kind === 'file') {
    out.push({
      container: 'ratelimit',
      kind: pw.kind,
      name: pw.kind === 'env' ? pw.name : pw.path,
      purpose: 'Redis password (the rate-limit service reads only REDIS_PASSWORD or a password in REDIS_URL)',
    });
  }
  return out;
}

export function operatorInputWarnings(model: GatewayModel): string[] {
  return operatorInputs(model).map(
    (i) =>
      `manifests: the ${i.container} Deployment does not set ${i.kind === 'env' ? `environment variable ${i.name}` : `file ${i.name}`} (${i.purpose}): add it to the pod yourself (manifests/README.md)`,
  );
}
