// Loads a rate-limit config from a YAML file or a directory of YAML files (one domain each), with
// envoyproxy/ratelimit's error messages. In a directory, dot-entries are skipped, so the `..data`
// folder of a Kubernetes ConfigMap mount is read once, through the visible file links.
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { checkKeys } from './check-keys.js';
import { RateLimitConfigError } from './config-error.js';
import { buildLevel } from './descriptor-tree.js';
import type { DomainConfig, FailureMode, RateLimitConfig } from './types.js';

const failureModes: FailureMode[] = ['error', 'allow', 'local'];

export function listConfigFiles(configPath: string): { file: string; name: string }[] {
  const stat = fs.statSync(configPath);
  if (!stat.isDirectory()) return [{ file: configPath, name: path.basename(configPath) }];
  return fs
    .readdirSync(configPath)
    .filter((f) => !f.startsWith('.') && /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ file: path.join(configPath, f), name: f }))
    .filter((f) => fs.statSync(f.file).isFile());
}

export function parseConfigFile(name: string, text: string): DomainConfig {
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: false });
  if (doc.errors.length) {
    throw new RateLimitConfigError(
      name,
      `error loading config file: ${doc.errors[0].message.split('\n')[0].replace(/:$/, '')}`,
    );
  }
  const root = doc.toJS({ mapAsMap: true }) as unknown;
  if (root !== null && root !== undefined && !(root instanceof Map)) {
    throw new RateLimitConfigError(name, 'error loading config file: the file must hold a map');
  }
  const m = (root as Map<string, unknown> | null) ?? new Map<string, unknown>();
  checkKeys(name, m);
  const domain = m.get('domain') === undefined || m.get('domain') === null ? '' : String(m.get('domain'));
  if (domain === '') throw new RateLimitConfigError(name, 'config file cannot have empty domain');
  const fm = String(m.get('failure_mode') ?? 'error');
  if (!failureModes.includes(fm as FailureMode)) {
    throw new RateLimitConfigError(name, `invalid failure_mode '${fm}' (expected ${failureModes.join(', ')})`);
  }
  return {
    domain,
    failureMode: fm as FailureMode,
    root: buildLevel(name, domain, m.get('descriptors'), domain),
    file: name,
  };
}

export function loadConfig(configPath: string): RateLimitConfig {
  const domains = new Map<string, DomainConfig>();
  const files = listConfigFiles(configPath);
  for (const f of files) {
    const d = parseConfigFile(f.name, fs.readFileSync(f.file, 'utf8'));
    if (domains.has(d.domain)) throw new RateLimitConfigError(f.name, `duplicate domain '${d.domain}' in config file`);
    domains.set(d.domain, d);
  }
  return { domains, files: files.map((f) => f.file) };
}
