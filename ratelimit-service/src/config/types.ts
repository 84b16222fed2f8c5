// A loaded rate-limit config: one descriptor tree per domain.
import type { Algorithm } from '../store/store.js';
import type { Unit } from '../units.js';

export type FailureMode = 'error' | 'allow' | 'local';

export interface RateLimitRule {
  unit: Unit;
  requestsPerUnit: number;
  unlimited: boolean;
  name?: string;
  replaces: string[];
  algorithm: Algorithm;
}

export interface DescriptorNode {
  key: string;
  /** '' when the descriptor matches any value of its key (the key-only default). */
  value: string;
  /** `key_value`, or `key` for a key-only node: the name used in stats and duplicate checks. */
  id: string;
  /** The metrics label of a limit ending here: the domain and the ids of the path, joined by dots. */
  statsKey: string;
  /** Set when `id` contains `*`: matched as a pattern against the request's `key_value`. */
  pattern?: RegExp;
  rule?: RateLimitRule;
  children: DescriptorLevel;
  shadowMode: boolean;
  quotaMode: boolean;
  detailedMetric: boolean;
  valueToMetric: boolean;
  shareThreshold: boolean;
}

export interface DescriptorLevel {
  /** Nodes without `*`, by id. */
  exact: Map<string, DescriptorNode>;
  /** Pattern nodes, in config order (first match wins). */
  wildcards: DescriptorNode[];
}

export interface DomainConfig {
  domain: string;
  failureMode: FailureMode;
  root: DescriptorLevel;
  /** The file it came from, as named in error messages. */
  file: string;
}

export interface RateLimitConfig {
  domains: Map<string, DomainConfig>;
  files: string[];
}
