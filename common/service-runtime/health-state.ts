// Serving state shared by the gRPC health service (grpc.health.v1) and the HTTP /readyz probe.
//
// The service '' is the overall state of the process. A named service (usually a fully qualified
// gRPC service name) is serving only while it is marked serving itself AND the overall state is
// serving, so marking '' not serving (for example when draining) takes every service down at once.
// A process starts not serving: it marks itself ready once its configuration is loaded.

export type HealthListener = (service: string, serving: boolean) => void;

export class HealthState {
  private readonly states = new Map<string, { serving: boolean; reason?: string }>();
  private readonly listeners = new Set<HealthListener>();

  constructor(initial?: Record<string, boolean>) {
    this.states.set('', { serving: false, reason: 'starting' });
    for (const [service, serving] of Object.entries(initial ?? {})) {
      this.states.set(service, { serving });
    }
  }

  /**
   * Marks a service ('' = overall) serving or not. `reason` is a short explanation shown by
   * /readyz while not serving. Listeners are told only when the serving flag changes.
   */
  setServing(service: string, serving: boolean, reason?: string): void {
    const previous = this.states.get(service);
    this.states.set(service, { serving, reason: serving ? undefined : reason });
    if (previous?.serving === serving) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(service, serving);
      } catch {
        // A broken listener must not stop the others nor the caller.
      }
    }
  }

  /** The effective state: a named service also needs the overall state ('') to be serving. */
  isServing(service = ''): boolean {
    const overall = this.states.get('')?.serving === true;
    if (service === '') return overall;
    return overall && this.states.get(service)?.serving === true;
  }

  /** Whether the service was ever declared (with setServing or the constructor). '' always is. */
  has(service: string): boolean {
    return this.states.has(service);
  }

  /** Every declared service name, '' included. */
  services(): string[] {
    return [...this.states.keys()];
  }

  /** Why the service is not serving (undefined while serving). Falls back to the overall reason. */
  reason(service = ''): string | undefined {
    if (this.isServing(service)) return undefined;
    const overall = this.states.get('');
    if (service !== '' && overall?.serving === true) {
      const own = this.states.get(service);
      return own ? (own.reason ?? 'not serving') : 'unknown service';
    }
    return overall?.reason ?? 'not serving';
  }

  /** Calls `listener(service, serving)` on every change of a declared flag. Returns an unsubscribe function. */
  onChange(listener: HealthListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
