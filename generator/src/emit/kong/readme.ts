// kong/README.md: how to deploy the Kong files, what maps to what, the credentials the operator
// creates (named, never valued), and every feature of this gateway that Kong does not express,
// per route. Deterministic: built only from the model and the emitter's plan.
import type { GatewayModel, Route } from '../../model/types.js';
import { backendUrl, type ServiceSettings } from './backends.js';
import type { ConsumerPlan, CredentialPlan } from './consumers.js';
import { kongPath } from './match.js';
import { kongNames, vaultNames } from './names.js';
import type { Gap, KongRoute, PluginInstance } from './types.js';

export interface ReadmeInput {
  model: GatewayModel;
  source: string;
  routes: KongRoute[];
  services: ServiceSettings[];
  /** Existing Services in the gateway's namespace that Ingress objects name. */
  existing: { service: string; annotations: Record<string, string> }[];
  consumers: ConsumerPlan[];
  globals: PluginInstance[];
  gaps: Gap[];
  files: string[];
}

const cell = (s: string) => s.replace(/\|/g, '\\|');
const code = (s: string) => `\`${cell(s)}\``;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function matchText(r: Route): string {
  const parts = [`${r.match.methods?.join(',') ?? 'any'} ${r.match.path.kind} ${r.match.path.value}`];
  for (const h of r.match.headers) {
    parts.push(
      h.match ? `${h.name} ${h.match.kind} ${h.match.value}` : `${h.name} ${h.present ? 'present' : 'absent'}`,
    );
  }
  const body = Object.entries(r.match.body).map(([f, v]) => `body ${f}=${v.join('|')}`);
  if (r.match.personalData !== undefined) body.push(`personal data ${r.match.personalData ? 'present' : 'absent'}`);
  return [...parts, ...body].join('; ');
}

function routesSection(i: ReadmeInput): string[] {
  const lines = [
    '## Routes',
    '',
    'One Kong route (and one Ingress) per gateway route, in gateway.yaml order. Routes told apart only by the request body share the Kong route of the member without a body condition: Kong never reads the body.',
    '',
    '| gateway route | match | Kong route / Ingress | Kong path | service | plugins |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  // Looked up per route: maps, not a search of every Kong route for each (10,000 routes).
  const byRoute = new Map(i.routes.map((x) => [x.route, x]));
  const byFolded = new Map(i.routes.flatMap((x) => x.folded.map((f) => [f, x] as const)));
  for (const r of i.model.routes) {
    const k = byRoute.get(r);
    if (k) {
      lines.push(
        `| ${code(r.name)} | ${cell(matchText(r))} | ${code(k.name)} | ${code(kongPath(r.match.path))} | ${code(
          kongNames.service(i.model.name, k.backend.name),
        )} | ${k.plugins.map((p) => code(p.name)).join(', ')} |`,
      );
    } else {
      const by = byFolded.get(r)!;
      lines.push(`| ${code(r.name)} | ${cell(matchText(r))} | served by ${code(by.name)} | | | |`);
    }
  }
  return lines;
}

function existingSection(i: ReadmeInput): string[] {
  if (!i.existing.length) return [];
  return [
    'The Ingress objects send to these existing Services of the namespace as they are; give them the Kong annotations:',
    '',
    '```sh',
    ...i.existing.map(
      (e) =>
        `kubectl -n ${i.model.namespace} annotate service ${e.service} ${Object.entries(e.annotations)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
    ),
    '```',
    '',
  ];
}

function mappingSection(i: ReadmeInput): string[] {
  const gw = i.model.name;
  const redis = i.routes.some((k) => k.plugins.some((p) => p.plugin === 'rate-limiting'));
  return [
    '## What maps to what',
    '',
    '| gateway.yaml | Kong |',
    '| --- | --- |',
    `| \`backends\` | one service each, \`${kongNames.service(gw, '<backend>')}\` (URL, connect timeout; read/write timeout: the longest wait of its routes). Kubernetes: the Services of manifests/backend-services.yaml (same names: an existing Service of the namespace as it is, else ExternalName \`${gw}-backend-<backend>\`), with Kong annotations |`,
    '| `routes` (path, methods, headers, listener hosts) | Kong routes / Ingress objects, `strip_path: false`, `preserve_host: false`; exact and regex paths as Kong regex paths (`~…$`) with `regex_priority` in gateway.yaml order; streaming routes without response buffering |',
    '| `auth.api_key` | `key-auth`: the raw key in the `x-api-key` or `api-key` header, removed before the backend (`hide_credentials`) |',
    "| `auth.jwt` | `jwt`: the token in `Authorization: Bearer`, `exp` checked; its `iss` claim names the provider's consumer, whose jwt credential holds the public key |",
    "| `auth.clients` / `auth.tenants`; API keys and JWTs on one route | `acl` with `allow` groups (a client's name, `tenant:<tenant>`, `jwt:<provider>`); on a route that takes both, key-auth and jwt fall back to the anonymous consumer, which acl refuses |",
    '| `clients` | KongConsumer / decK consumer per client (username = client name), in ACL groups `<client>` and `tenant:<tenant>` |',
    `| \`limits\` (requests per ip, client or route) | \`rate-limiting\`, \`limit_by\` ip / consumer / service${
      redis ? ', `policy: redis` with the `redis` block' : ''
    }, one plugin per route |`,
    '| backend `credential` | `ai-proxy` `auth.header_value` as a Kong vault reference (`{vault://env/…}`), on routes it fits |',
    '| client credential headers, `x-aigw-*` | removed by `request-transformer` on every route |',
    '| request id, metrics | global `correlation-id` (`x-request-id`) and `prometheus` |',
  ];
}

function kubectlLines(ns: string, c: CredentialPlan): string[] {
  const literals = [
    ...(c.type === 'key-auth' ? [`--from-literal=kongCredType=${c.type}`] : []),
    ...Object.entries(c.fields).map(([k, v]) =>
      k === 'rsa_public_key' ? `--from-file=${k}=<provider-public-key.pem>` : `--from-literal=${k}=${shellQuote(v)}`,
    ),
  ];
  return [
    `kubectl -n ${ns} create secret generic ${c.secret} ${literals.join(' ')}${c.note ? `   # ${c.note}` : ''}`,
    `kubectl -n ${ns} label secret ${c.secret} konghq.com/credential=${c.type}`,
  ];
}

function consumersSection(i: ReadmeInput): string[] {
  if (!i.consumers.length) return [];
  const ns = i.model.namespace;
  const lines = [
    '## Consumers and credentials',
    '',
    '| consumer | stands for | ACL groups |',
    '| --- | --- | --- |',
    ...i.consumers.map(
      (c) => `| ${code(c.username)} | ${cell(c.about)} | ${c.groups.map(code).join(', ') || 'none'} |`,
    ),
    '',
    "`gen` never writes a credential. Kong's key-auth compares the **plaintext** API key, and gateway.yaml holds only SHA-256 digests: whoever holds each client's key must supply it. The KongConsumers in consumers.yaml name their credential Secrets; create them (the Kong Ingress Controller reads the `konghq.com/credential` label; `kongCredType` is for controllers before 3.0):",
    '',
    '```sh',
  ];
  for (const c of i.consumers) {
    if (!c.credentials.length) continue;
    lines.push(`# ${c.username}`);
    for (const cred of c.credentials) lines.push(...kubectlLines(ns, cred));
  }
  lines.push(
    '```',
    '',
    'With decK, kong.yaml holds the consumers and their ACL groups, not their keys. Add the keys with the Admin API (they carry no select tag, so `deck gateway sync` leaves them alone):',
    '',
    '```sh',
  );
  for (const c of i.consumers) {
    for (const cred of c.credentials) {
      if (cred.type === 'key-auth')
        lines.push(
          `curl -sS -X POST http://<kong-admin>:8001/consumers/${c.username}/key-auth --data key=${shellQuote(cred.fields.key)}`,
        );
      if (cred.type === 'jwt')
        lines.push(
          `curl -sS -X POST http://<kong-admin>:8001/consumers/${c.username}/jwt -F algorithm=${cred.fields.algorithm} -F key=${shellQuote(
            cred.fields.key,
          )} -F rsa_public_key=@<provider-public-key.pem>`,
        );
    }
  }
  lines.push('```');
  return lines;
}

function environmentSection(i: ReadmeInput): string[] {
  const m = i.model;
  const rows: {
    name: string;
    variable: string;
    value: string;
    prefix?: string;
    secret?: { name: string; key: string };
  }[] = [];
  const used = new Set(
    i.routes.flatMap((k) => k.plugins.filter((p) => p.plugin === 'ai-proxy').map(() => k.backend.name)),
  );
  for (const b of m.backends.filter((x) => used.has(x.name) && x.credential)) {
    const c = b.credential!;
    const v = vaultNames.credential(b.name);
    const from =
      c.source.kind === 'secret'
        ? `Secret \`${c.source.name}\`, key \`${c.source.key}\``
        : c.source.kind === 'env'
          ? `environment variable \`${c.source.name}\``
          : `file \`${c.source.path}\``;
    rows.push({
      name: `backend ${b.name}: the whole \`${c.header}\` header`,
      variable: v.variable,
      value: `${c.prefix ? `"${c.prefix}" followed by ` : ''}the key in ${from}`,
      ...(c.prefix ? { prefix: c.prefix } : {}),
      ...(c.source.kind === 'secret' ? { secret: { name: c.source.name, key: c.source.key } } : {}),
    });
  }
  const pw = m.services.redis.password;
  const limited = i.routes.some((k) => k.plugins.some((p) => p.plugin === 'rate-limiting' && p.config.redis));
  if (pw && limited) {
    rows.push({
      name: 'Redis password',
      variable: vaultNames.redisPassword().variable,
      value:
        pw.kind === 'secret'
          ? `the value in Secret \`${pw.name}\`, key \`${pw.key}\``
          : pw.kind === 'env'
            ? `the value of \`${pw.name}\``
            : `the content of \`${pw.path}\``,
      ...(pw.kind === 'secret' ? { secret: { name: pw.name, key: pw.key } } : {}),
    });
  }
  const lines = [
    '## Kong settings',
    '',
    `- Proxy ports: ${m.listeners.map((l) => `${l.address}:${l.port} (listener ${l.name})`).join(', ')}, e.g. \`KONG_PROXY_LISTEN=${m.listeners
      .map((l) => `${l.address}:${l.port}`)
      .join(', ')}\`.`,
  ];
  if (m.listeners.some((l) => l.trustedProxies > 0)) {
    lines.push(
      '- Client addresses (per-ip limits): the gateway trusts ' +
        m.listeners.map((l) => `${l.trustedProxies} proxy hop(s) on ${l.name}`).join(', ') +
        ': set `KONG_TRUSTED_IPS` to those proxies, `KONG_REAL_IP_HEADER=X-Forwarded-For` and `KONG_REAL_IP_RECURSIVE=on`.',
    );
  }
  if (rows.length) {
    lines.push(
      "- Secrets come from Kong's built-in `env` vault: the configs hold only references, Kong reads the value from its own environment when it needs it. Set on every Kong data-plane container:",
      '',
      '| reference | variable | value |',
      '| --- | --- | --- |',
      ...rows.map((r) => `| ${cell(r.name)} | \`${r.variable}\` | ${cell(r.value)} |`),
    );
    const fromSecrets = rows.filter((r) => r.secret);
    if (fromSecrets.length) {
      lines.push('', '  With the Kong Ingress Controller (Kong proxy container):', '', '  ```yaml', '  env:');
      for (const r of fromSecrets) {
        const raw = `${r.variable}_RAW`;
        lines.push(
          `    - name: ${r.prefix ? raw : r.variable}`,
          `      valueFrom: { secretKeyRef: { name: ${r.secret!.name}, key: ${r.secret!.key} } }`,
        );
        if (r.prefix) lines.push(`    - name: ${r.variable}`, `      value: "${r.prefix}$(${raw})"`);
      }
      lines.push('  ```');
    }
  }
  return lines;
}

function gapsSection(i: ReadmeInput): string[] {
  const m = i.model;
  const lines = [
    '## Not expressed in Kong',
    '',
    'Every feature of this gateway that Kong OSS (open-source plugins only) cannot express, with the routes it concerns. `gen build` prints the same lines as warnings. Nothing here is dropped silently: decide for each whether Kong is enough, or run the Envoy output instead.',
    '',
  ];
  // One entry per gap, its routes listed in gateway.yaml order: the explanation is written once
  // however many routes share it (a gateway of thousands of routes stays readable).
  const order = new Map(m.routes.map((r, n) => [r.name, n]));
  const byGap = new Map<string, { feature: string; why: string; routes: string[]; seen: Set<string> }>();
  for (const g of i.gaps) {
    const key = `${g.feature}\u0000${g.why}`;
    let entry = byGap.get(key);
    if (!entry) {
      entry = { feature: g.feature, why: g.why, routes: [], seen: new Set() };
      byGap.set(key, entry);
    }
    if (!entry.seen.has(g.route)) {
      entry.seen.add(g.route);
      entry.routes.push(g.route);
    }
  }
  const entries = [...byGap.values()];
  for (const e of entries) e.routes.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  entries.sort((a, b) => (order.get(a.routes[0]) ?? 0) - (order.get(b.routes[0]) ?? 0));
  if (!entries.length) lines.push('Every route is expressed.', '');
  for (const e of entries) {
    const routes = e.routes.map((r) => `\`${r}\``).join(', ');
    lines.push(
      `- **${e.feature}**: ${e.why}.`,
      `  ${e.routes.length === 1 ? 'Route' : `Routes (${e.routes.length})`}: ${routes}.`,
    );
  }
  if (entries.length) lines.push('');
  const wide: string[] = [];
  const checked = m.backends.filter((x) => x.healthCheck);
  if (checked.length) {
    wide.push(
      `- **active health checks** (${checked
        .map((b) => `${b.name} ${b.healthCheck!.path}`)
        .join(
          ', ',
        )}): Kong checks health on upstreams with targets, not on a service URL; with one backend per Kong route they would change nothing (add a KongUpstreamPolicy or decK upstream by hand if wanted).`,
    );
  }
  const limitedConnections = m.backends.filter((b) => b.maxConnections !== 1024);
  if (limitedConnections.length) {
    wide.push(
      `- **connection limits** (${limitedConnections.map((b) => `${b.name}: ${b.maxConnections}`).join(', ')}): Kong has no per-service connection cap.`,
    );
  }
  if (m.services.redis.whenDown === 'local') {
    wide.push(
      "- **Redis fallback `when_down: local`**: Kong's rate-limiting has no per-node fallback; with `fault_tolerant: true` it stops limiting while Redis is away.",
    );
  }
  wide.push(
    "- **whole-request timeouts**: Kong's read and write timeouts (per service) bound the time between two reads or writes, not the whole request.",
  );
  lines.push('### The whole gateway', '', ...wide);
  return lines;
}

export function kongReadme(i: ReadmeInput): string {
  const m = i.model;
  const ns = m.namespace;
  const applyOrder = ['plugins.yaml', 'consumers.yaml', 'backend-services.yaml', 'ingress.yaml'];
  const kube = applyOrder.map((f) => `kong/${f}`).filter((f) => i.files.includes(f));
  const lines = [
    `# Kong configuration for gateway \`${m.name}\``,
    '',
    `Generated by \`gen build ${i.source}\` (ai-gateway-kit). Do not edit: change the gateway file and build again.`,
    '',
    'The same gateway for Kong Gateway 3.x with open-source plugins, in two forms: Kubernetes objects for the Kong Ingress Controller, or one decK file. Use one of them, not both.',
    '',
    '| file | holds |',
    '| --- | --- |',
    ...i.files.map((f) => `| \`${f}\` | ${fileAbout[f.replace(/^kong\//, '')] ?? ''} |`),
    '',
    '## Deploy',
    '',
    'Kong Ingress Controller (namespace `' +
      ns +
      '`): create the credential Secrets below, give Kong the environment below, then',
    '',
    '```sh',
    `kubectl apply ${kube.map((f) => `-f ${f}`).join(' ')}`,
    '```',
    '',
    'decK (Kong in DB or DB-less mode): give Kong the environment below, then',
    '',
    '```sh',
    'deck gateway sync kong/kong.yaml',
    '```',
    '',
    'and add the credentials with the Admin API as shown below.',
    '',
    ...mappingSection(i),
    '',
    ...routesSection(i),
    '',
    '### Services',
    '',
    '| Kong service (kong.yaml) | URL |',
    '| --- | --- |',
    ...i.services.map((s) => `| \`${kongNames.service(m.name, s.backend.name)}\` | ${backendUrl(s.backend)} |`),
    '',
    ...existingSection(i),
    ...consumersSection(i),
    '',
    ...environmentSection(i),
    '',
    ...gapsSection(i),
  ];
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

const fileAbout: Record<string, string> = {
  'backend-services.yaml':
    'the Services the Ingress objects name (as in manifests/backend-services.yaml), with Kong annotations',
  'consumers.yaml': 'KongConsumer per client, JWT provider and the anonymous consumer; credentials by Secret name',
  'ingress.yaml': 'an Ingress per Kong route, `ingressClassName: kong`, plugins by annotation',
  'kong.yaml': 'the same gateway as one decK file (`_format_version: "3.0"`)',
  'plugins.yaml': 'KongPlugin per configured plugin; KongClusterPlugin for the global ones',
  'README.md': 'this file',
};
