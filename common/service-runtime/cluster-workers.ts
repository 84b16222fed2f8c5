// --workers N for a service: the primary forks N workers that share the gRPC port (node:cluster
// hands each new connection to one of them), restarts one that dies, and knows when all of them
// are ready. Workers say so with reportReadyToPrimary().
import cluster from 'node:cluster';
import type { Logger } from './logger.js';

export interface WorkerPool {
  /** Stops restarting workers and sends SIGTERM to each. */
  stop(): void;
}

export function superviseWorkers(opts: {
  count: number;
  log: Logger;
  /** Called whenever the answer to "is every worker ready?" may have changed. */
  onReadyChange: (allReady: boolean) => void;
}): WorkerPool {
  const ready = new Set<number>();
  let stopping = false;
  const report = () => opts.onReadyChange(ready.size === Object.keys(cluster.workers ?? {}).length);
  const fork = () => {
    const w = cluster.fork();
    w.on('message', (m: { ready?: boolean }) => {
      if (m?.ready === true) ready.add(w.id);
      if (m?.ready === false) ready.delete(w.id);
      report();
    });
  };
  for (let i = 0; i < opts.count; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    ready.delete(w.id);
    opts.onReadyChange(false);
    if (!stopping) {
      opts.log.error('worker exited; starting another', { worker: w.id, code, signal });
      fork();
    }
  });
  return {
    stop() {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    },
  };
}

/** In a worker: tell the primary this worker is ready (or no longer is). */
export function reportReadyToPrimary(ready = true): void {
  if (cluster.isWorker) process.send?.({ ready });
}

/** In a worker: exit when the primary is gone (its IPC channel closes), instead of serving on alone. */
export function exitWithPrimary(): void {
  if (cluster.isWorker) process.once('disconnect', () => process.exit(0));
}
