import type { BuildContext } from './context.js';
import type { RawGateway } from './raw.js';
import { secretSource } from './secrets.js';
import type { Backend } from './types.js';
import { durationMs } from './units.js';

const defaultCredentialHeader: Record<Backend['kind'], { header: string; prefix: string }> = {
  'openai-compatible': { header: 'authorization', prefix: 'Bearer ' },
  anthropic: { header: 'x-api-key', prefix: '' },
  http: { header: 'authorization', prefix: 'Bearer ' },
};

export function buildBackends(ctx: BuildContext, raw: RawGateway): Backend[] {
  ctx.uniqueNames(raw.backends, 'backends');
  return raw.backends.map((b, i) => {
    const url = new URL(b.url);
    const scheme = url.protocol === 'https:' ? 'https' : 'http';
    const kind = b.kind ?? 'http';
    const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
    if (port < 1 || port > 65535) ctx.error(['backends', i, 'url'], `backends[${i}].url: port ${port} is out of range`);
    const backend: Backend = {
      name: b.name,
      kind,
      scheme,
      host: url.hostname,
      port,
      sni: b.sni ?? url.hostname,
      connectTimeoutMs: durationMs(b.connect_timeout ?? '5s'),
      maxConnections: b.max_connections ?? 1024,
    };
    if (backend.connectTimeoutMs <= 0)
      ctx.error(['backends', i, 'connect_timeout'], `backends[${i}].connect_timeout: must be more than 0s`);
    if (b.sni && scheme !== 'https')
      ctx.error(['backends', i, 'sni'], `backends[${i}].sni: only an https backend uses TLS`);
    if (b.health_check) {
      const hc = b.health_check;
      backend.healthCheck = {
        path: hc.path,
        intervalMs: durationMs(hc.interval ?? '10s'),
        timeoutMs: durationMs(hc.timeout ?? '2s'),
        unhealthyThreshold: hc.unhealthy_threshold ?? 3,
        healthyThreshold: hc.healthy_threshold ?? 2,
      };
      for (const f of ['interval', 'timeout'] as const) {
        if (hc[f] !== undefined && durationMs(hc[f]) <= 0)
          ctx.error(['backends', i, 'health_check', f], `backends[${i}].health_check.${f}: must be more than 0s`);
      }
    }
    if (b.credential_header && !b.credential) {
      ctx.error(['backends', i, 'credential_header'], `backends[${i}].credential_header: set without a credential`);
    }
    if (b.credential) {
      const source = secretSource(ctx, b.credential, ['backends', i, 'credential'], `backends[${i}].credential`);
      const def = defaultCredentialHeader[kind];
      const header = b.credential_header ?? def.header;
      if (source) backend.credential = { source, header, prefix: header === def.header ? def.prefix : '' };
    }
    return backend;
  });
}
