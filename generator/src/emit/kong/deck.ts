// The same gateway as one decK declarative file (`deck gateway sync kong/kong.yaml`): services
// (one per backend) with their routes and route plugins, consumers with their ACL groups (API keys
// and JWT keys are left out: the operator adds them), and the global plugins. `select_tags` makes
// decK manage only what this file holds, so credentials added by hand survive a sync.
import type { GatewayModel } from '../../model/types.js';
import { backendUrl, type ServiceSettings } from './backends.js';
import type { ConsumerPlan } from './consumers.js';
import { kongHeaders, kongHosts, kongPath, regexPriority } from './match.js';
import { kongNames } from './names.js';
import type { Json, KongRoute, PluginInstance } from './types.js';

const pluginEntry = (p: PluginInstance): Json => ({ name: p.plugin, config: p.config });

function route(model: GatewayModel, k: KongRoute): Json {
  const r = k.route;
  const out: Json = { name: k.name, paths: [kongPath(r.match.path)] };
  if (r.match.methods?.length) out.methods = [...r.match.methods];
  const hosts = kongHosts(model.listeners.find((l) => l.name === r.listener)!);
  if (hosts.length) out.hosts = hosts;
  const { headers } = kongHeaders(r);
  if (Object.keys(headers).length) out.headers = headers;
  out.strip_path = false;
  out.preserve_host = false;
  const priority = regexPriority(r, model);
  if (priority !== undefined) out.regex_priority = priority;
  if (r.streaming) out.response_buffering = false;
  out.plugins = k.plugins.map(pluginEntry);
  return out;
}

export function deckConfig(
  model: GatewayModel,
  routes: KongRoute[],
  services: ServiceSettings[],
  consumers: ConsumerPlan[],
  globals: PluginInstance[],
): Json {
  const doc: Json = { _format_version: '3.0', _info: { select_tags: [model.name] } };
  doc.services = services.map((s) => {
    const svc: Json = {
      name: kongNames.service(model.name, s.backend.name),
      url: backendUrl(s.backend),
      connect_timeout: s.connectTimeoutMs,
    };
    if (s.readTimeoutMs !== undefined) {
      svc.read_timeout = s.readTimeoutMs;
      svc.write_timeout = s.readTimeoutMs;
    }
    const mine = routes.filter((k) => k.backend.name === s.backend.name);
    if (mine.length) svc.routes = mine.map((k) => route(model, k));
    return svc;
  });
  if (consumers.length) {
    doc.consumers = consumers.map((c) => ({
      username: c.username,
      ...(c.groups.length ? { acls: c.groups.map((group) => ({ group })) } : {}),
    }));
  }
  doc.plugins = globals.map(pluginEntry);
  return doc;
}
