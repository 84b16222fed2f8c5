// Kubernetes resource quantities as numbers, for the few sums and fractions the manifests need
// (Redis maxmemory, the quota check). Accepts what gateway.yaml's schema allows, and a bit more.
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const decimal: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Bytes of a memory quantity like "512Mi" or "1G"; undefined when it cannot be read. */
export function memoryBytes(q: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (!m) return undefined;
  const unit = m[2] ? (binary[m[2]] ?? decimal[m[2]]) : 1;
  return Math.round(Number(m[1]) * unit);
}

/** Millicores of a CPU quantity like "250m", "1" or "0.5"; undefined when it cannot be read. */
export function cpuMillis(q: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(m)?$/.exec(q.trim());
  if (!m) return undefined;
  return m[2] ? Number(m[1]) : Math.round(Number(m[1]) * 1000);
}
