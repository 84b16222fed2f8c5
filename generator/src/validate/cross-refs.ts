// Checks that the generated files agree with each other: every cluster Envoy names exists, every
// ext_authz policy a route names exists in policy.yaml, and every descriptor that Envoy's
// rate_limits actions (or ext-authz's token limits) build has a limit in the rate-limit config.
// A mismatch would not fail at load time: Envoy would silently not limit, or ext-authz deny all.
import type { OutputProblem } from './problem.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface GeneratedFiles {
  envoy: { file: string; doc: Json };
  ratelimit: { file: string; doc: Json };
  policy: { file: string; doc: Json };
}

/**
 * Visits every object in a JSON tree. The dotted path is built only when asked for (`path()`):
 * a large config has millions of nodes and only a few paths are ever reported.
 */
function walk(node: unknown, visit: (obj: Json, key: string, path: () => string) => void): void {
  const stack: (string | number)[] = [];
  const pathOf = () => stack.reduce<string>((p, s) => (typeof s === 'number' ? `${p}[${s}]` : p ? `${p}.${s}` : s), '');
  const go = (n: unknown) => {
    if (Array.isArray(n)) {
      for (let i = 0; i < n.length; i++) {
        stack.push(i);
        go(n[i]);
        stack.pop();
      }
    } else if (isObj(n)) {
      let key = '';
      for (let i = stack.length - 1; i >= 0; i--) {
        const seg = stack[i];
        if (typeof seg === 'string') {
          key = seg;
          break;
        }
      }
      visit(n, key, pathOf);
      for (const k in n) {
        stack.push(k);
        go(n[k]);
        stack.pop();
      }
    }
  };
  go(node);
}

type Visit = (obj: Json, key: string, path: () => string) => void;

/** A visitor finding every cluster name not in `clusters`, with where (paths built only for those). */
function missingClusterRefs(clusters: Set<string>, missing: { path: string; name: string }[]): Visit {
  const ref = (name: string, path: () => string) => {
    if (!clusters.has(name)) missing.push({ path: path(), name });
  };
  return (obj, key, path) => {
    if (key === 'route' && typeof obj.cluster === 'string') ref(obj.cluster, () => `${path()}.cluster`);
    if (key === 'envoy_grpc' && typeof obj.cluster_name === 'string')
      ref(obj.cluster_name, () => `${path()}.cluster_name`);
    if (key === 'weighted_clusters' && Array.isArray(obj.clusters)) {
      obj.clusters.forEach((c, i) => {
        if (isObj(c)) ref(String(c.name), () => `${path()}.clusters[${i}].name`);
      });
    }
    if (
      typeof obj['@type'] === 'string' &&
      obj['@type'].endsWith('.aggregate.v3.ClusterConfig') &&
      Array.isArray(obj.clusters)
    ) {
      obj.clusters.forEach((c, i) => {
        ref(String(c), () => `${path()}.clusters[${i}]`);
      });
    }
  };
}

interface Entry {
  key: string;
  /** undefined: the value is only known per request. */
  value?: string;
}

function actionEntry(action: Json): Entry | undefined {
  const [kind, body] = Object.entries(action)[0] ?? [];
  const b = isObj(body) ? body : {};
  switch (kind) {
    case 'generic_key':
      return { key: String(b.descriptor_key ?? 'generic_key'), value: String(b.descriptor_value) };
    case 'remote_address':
      return { key: 'remote_address' };
    case 'source_cluster':
      return { key: 'source_cluster' };
    case 'destination_cluster':
      return { key: 'destination_cluster' };
    case 'request_headers':
    case 'metadata':
    case 'dynamic_metadata':
      return { key: String(b.descriptor_key) };
    case 'header_value_match':
      return { key: String(b.descriptor_key ?? 'header_match'), value: String(b.descriptor_value) };
    default:
      return undefined;
  }
}

/** Why the rate-limit config has no limit for this descriptor, or undefined when it has one. */
export function descriptorGap(config: Json, entries: Entry[]): string | undefined {
  let level = (config.descriptors as Json[] | undefined) ?? [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const found = level.filter(
      (d) => d.key === e.key && (e.value === undefined || d.value === undefined || d.value === e.value),
    );
    const shown = () =>
      entries
        .slice(0, i + 1)
        .map((x) => (x.value === undefined ? x.key : `${x.key}=${x.value}`))
        .join(' > ');
    if (!found.length) return `no descriptor ${shown()} in the rate-limit config`;
    if (i === entries.length - 1) {
      if (!found.some((d) => isObj(d.rate_limit)))
        return `descriptor ${shown()} has no rate_limit in the rate-limit config`;
      return undefined;
    }
    level = found.flatMap((d) => (Array.isArray(d.descriptors) ? (d.descriptors as Json[]) : []));
  }
  return entries.length ? undefined : 'an empty descriptor';
}

export function crossReferences(files: GeneratedFiles): OutputProblem[] {
  const out: OutputProblem[] = [];
  const envoy = files.envoy;
  const clusters = new Set(
    ((envoy.doc.static_resources as Json)?.clusters as Json[] | undefined)?.map((c) => String(c.name)) ?? [],
  );
  const missing: { path: string; name: string }[] = [];
  const clusterRefs = missingClusterRefs(clusters, missing);
  const policies = (files.policy.doc.policies as Json | undefined) ?? {};
  // Routes repeat the same few action lists: each list is looked up in the config once.
  const gaps = new Map<string, string | undefined>();
  const gapOf = (entries: Entry[]) => {
    const id = entries
      .map((e) => (e.value === undefined ? `${e.key}\u0001` : `${e.key}\u0002${e.value}`))
      .join('\u0000');
    if (!gaps.has(id)) gaps.set(id, descriptorGap(files.ratelimit.doc, entries));
    return gaps.get(id);
  };
  // One walk of envoy.yaml: cluster references, and every HTTP connection manager that runs
  // ext_authz (each of its routes must name a policy).
  const routeProblems: OutputProblem[] = [];
  walk(envoy.doc, (hcm, key, pathOf) => {
    clusterRefs(hcm, key, pathOf);
    if (!Array.isArray(hcm.http_filters) || !isObj(hcm.route_config)) return;
    const authz = (hcm.http_filters as Json[]).some((f) => f.name === 'envoy.filters.http.ext_authz');
    for (const [i, vh] of ((hcm.route_config.virtual_hosts as Json[] | undefined) ?? []).entries()) {
      for (const [j, r] of ((vh.routes as Json[] | undefined) ?? []).entries()) {
        const where = () => `${pathOf()}.route_config.virtual_hosts[${i}].routes[${j}]`;
        const perFilter = (r.typed_per_filter_config as Json | undefined)?.['envoy.filters.http.ext_authz'] as
          | Json
          | undefined;
        const policy = ((perFilter?.check_settings as Json | undefined)?.context_extensions as Json | undefined)
          ?.policy;
        if (policy === undefined) {
          if (authz)
            routeProblems.push({
              file: envoy.file,
              path: where(),
              message: `route "${r.name}" names no ext_authz policy`,
            });
        } else if (!isObj(policies[String(policy)])) {
          routeProblems.push({
            file: envoy.file,
            path: `${where()}.typed_per_filter_config`,
            message: `policy "${policy}" is not in ${files.policy.file}`,
          });
        }
        const limits = ((r.route as Json | undefined)?.rate_limits as Json[] | undefined) ?? [];
        limits.forEach((rl, k) => {
          const entries = ((rl.actions as Json[] | undefined) ?? []).map(actionEntry);
          const gap = entries.includes(undefined) ? 'an action the check does not know' : gapOf(entries as Entry[]);
          if (gap) routeProblems.push({ file: envoy.file, path: `${where()}.route.rate_limits[${k}]`, message: gap });
        });
      }
    }
  });
  for (const ref of missing) {
    out.push({ file: envoy.file, path: ref.path, message: `cluster "${ref.name}" is not defined` });
  }
  out.push(...routeProblems); // after the cluster problems, as when these were two walks
  if (files.ratelimit.doc.domain !== files.policy.doc.domain) {
    out.push({
      file: files.policy.file,
      path: 'domain',
      message: `domain "${files.policy.doc.domain}" is not the rate-limit config's "${files.ratelimit.doc.domain}"`,
    });
  }
  for (const [name, p] of Object.entries(policies)) {
    if (!isObj(p)) continue;
    const dispatch = p.dispatch as Json | undefined;
    for (const [i, m] of ((dispatch?.routes as Json[] | undefined) ?? []).entries()) {
      if (!isObj(policies[String(m.route)]))
        out.push({
          file: files.policy.file,
          path: `policies.${name}.dispatch.routes[${i}]`,
          message: `policy "${m.route}" does not exist`,
        });
    }
    for (const [i, t] of ((p.token_limits as Json[] | undefined) ?? []).entries()) {
      const entries = (t.descriptor as Json[]).map((d) => ({
        key: String(d.key),
        value: d.value === undefined ? undefined : String(d.value),
      }));
      const gap = descriptorGap(files.ratelimit.doc, entries);
      if (gap) out.push({ file: files.policy.file, path: `policies.${name}.token_limits[${i}]`, message: gap });
    }
  }
  return out;
}
