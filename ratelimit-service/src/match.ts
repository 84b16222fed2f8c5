// Finds the limit for one request descriptor, exactly as envoyproxy/ratelimit walks its tree:
// at each level the exact `key_value`, then wildcard patterns in config order, then the key-only
// default; no backtracking; a limit only when the node matched by the last entry has one.
import type { DescriptorLevel, DescriptorNode, DomainConfig, RateLimitRule } from './config/types.js';

export interface Entry {
  key: string;
  value: string;
}

export interface MatchedLimit {
  rule: RateLimitRule;
  /** The leaf's flags. */
  shadowMode: boolean;
  quotaMode: boolean;
  /**
   * Bounded label for metrics: the config path (ids and patterns, never request values).
   * detailed_metric and value_to_metric are accepted for compatibility but do not widen it.
   */
  statsKey: string;
  /** The counter key without window: prefix + domain + `key_value_` per entry (pattern values where share_threshold). */
  counterKey: string;
}

function find(level: DescriptorLevel, e: Entry): DescriptorNode | undefined {
  const kv = `${e.key}_${e.value}`;
  const exact = level.exact.get(kv);
  if (exact) return exact;
  for (const w of level.wildcards) if (w.pattern!.test(kv)) return w;
  return level.exact.get(e.key);
}

export function matchLimit(domain: DomainConfig, entries: Entry[], keyPrefix: string): MatchedLimit | undefined {
  let level = domain.root;
  const path: DescriptorNode[] = [];
  for (let i = 0; i < entries.length; i++) {
    const node = find(level, entries[i]);
    if (!node) return undefined;
    path.push(node);
    if (i === entries.length - 1) break;
    if (node.children.exact.size === 0 && node.children.wildcards.length === 0) return undefined;
    level = node.children;
  }
  const leaf = path[path.length - 1];
  if (!leaf?.rule) return undefined;
  let counterKey = `${keyPrefix}${domain.domain}_`;
  for (let i = 0; i < path.length; i++) {
    const e = entries[i];
    counterKey += `${e.key}_${path[i].shareThreshold ? path[i].value : e.value}_`;
  }
  return {
    rule: leaf.rule,
    shadowMode: leaf.shadowMode,
    quotaMode: leaf.quotaMode,
    statsKey: leaf.statsKey,
    counterKey,
  };
}

/** The descriptor `limit` override of a request: skips the tree, but the domain must exist. */
export function overrideLimit(
  domain: DomainConfig,
  entries: Entry[],
  rule: RateLimitRule,
  keyPrefix: string,
): MatchedLimit {
  return {
    rule,
    shadowMode: false,
    quotaMode: false,
    statsKey: `${domain.domain}.${entries.map((e) => e.key).join('.')}.override`,
    counterKey: `${keyPrefix}${domain.domain}_${entries.map((e) => `${e.key}_${e.value}_`).join('')}`,
  };
}
