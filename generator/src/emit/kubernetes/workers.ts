// How many processes a service pod runs (`--workers`): one per whole core of its CPU request, so
// that a pod given 2 CPUs uses both (a Node.js process serves its calls on one core). At most 16.
import { cpuMillis } from './quantity.js';

/** Cores of a Kubernetes CPU quantity ("250m" → 0.25, "2" → 2, "1.5" → 1.5). */
export function cpuCores(quantity: string): number {
  const millis = cpuMillis(quantity);
  if (millis === undefined) throw new RangeError(`not a CPU quantity: ${JSON.stringify(quantity)}`);
  return millis / 1000;
}

export function workersFor(cpuRequest: string): number {
  return Math.min(16, Math.max(1, Math.floor(cpuCores(cpuRequest))));
}

/** `--workers N` when the request holds more than one core, else nothing (the default is 1). */
export function workersArgs(cpuRequest: string): string[] {
  const n = workersFor(cpuRequest);
  return n > 1 ? ['--workers', String(n)] : [];
}
