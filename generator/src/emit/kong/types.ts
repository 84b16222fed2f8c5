// What the Kong emitter's parts hand each other: the Kong routes it builds from the gateway's
// routes, the plugin instances on them, and the features Kong cannot express (never dropped).
import type { Backend, Route } from '../../model/types.js';

export type Json = Record<string, unknown>;

/** One configured Kong plugin: a KongPlugin (or KongClusterPlugin) in Kubernetes, a plugin entry in decK. */
export interface PluginInstance {
  /** Kubernetes object name; also what `konghq.com/plugins` lists. */
  name: string;
  /** Kong's plugin name, e.g. `key-auth`. */
  plugin: string;
  config: Json;
}

/** A Kong route: one per gateway route, except that routes told apart by the body share one. */
export interface KongRoute {
  /** The gateway route whose match, auth and limits the Kong route carries. */
  route: Route;
  /** Kong route, Ingress and decK route name. */
  name: string;
  /** The one backend Kong sends its requests to. */
  backend: Backend;
  /** Gateway routes (other than `route`) whose requests land here, because Kong cannot read the body. */
  folded: Route[];
  /** Route plugins, in the order they are listed. */
  plugins: PluginInstance[];
}

/** A feature of a gateway route that the Kong output does not express. */
export interface Gap {
  route: string;
  feature: string;
  /** Why, and what to do about it. */
  why: string;
}

export const gapWarning = (g: Gap) => `kong: route "${g.route}": ${g.feature} is not expressed (${g.why})`;
