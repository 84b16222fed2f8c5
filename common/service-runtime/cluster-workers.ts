// --workers N for a service: the primary forks N workers that share the gRPC port (node:cluster
// hands each new connection to one of them), restarts one that dies, and knows when all of them
// are ready. Workers say so with reportReadyToPrimary().
import cluster from 'node:cluster';
import type { Logger } from './logger.js';
import { missingNodeFlags } from './node-flags.js';

export interface WorkerPool {
  /** Stops restarting workers and sends SIGTERM to each. */
  stop(): void;
}

/** A worker that exits sooner than this after its start failed to start. */
const STARTUP_MS = 5000;
/** Consecutive failed starts after which the primary gives up (and exits 1, for its supervisor). */
const MAX_FAILED_STARTS = 5;

export function superviseWorkers(opts: {
  count: number;
  log: Logger;
  /** Called whenever the answer to "is every worker ready?" may have changed. */
  onReadyChange: (allReady: boolean) => void;
  /** When workers keep failing at start (default: stop them and exit the process with 1). */
  onGiveUp?: () => void;
  /** Node/V8 flags the workers start with, beside the primary's own (node-flags.ts). */
  nodeFlags?: readonly string[];
}): WorkerPool {
  if (opts.nodeFlags?.length) {
    cluster.setupPrimary({ execArgv: [...process.execArgv, ...missingNodeFlags(opts.nodeFlags)] });
  }
  const ready = new Set<number>();
  const startedAt = new Map<number, number>();
  let stopping = false;
  let failedStarts = 0;
  const report = () => opts.onReadyChange(ready.size === opts.count);
  const fork = () => {
    if (stopping) return;
    const w = cluster.fork();
    startedAt.set(w.id, Date.now());
    w.on('message', (m: { ready?: boolean }) => {
      if (m?.ready === true) ready.add(w.id);
      if (m?.ready === false) ready.delete(w.id);
      report();
    });
  };
  const stopAll = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
  };
  for (let i = 0; i < opts.count; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    ready.delete(w.id);
    report();
    const lived = Date.now() - (startedAt.get(w.id) ?? 0);
    startedAt.delete(w.id);
    if (stopping) return;
    failedStarts = lived < STARTUP_MS ? failedStarts + 1 : 0;
    if (failedStarts >= MAX_FAILED_STARTS) {
      opts.log.error('workers keep exiting right after they start; giving up', {
        failed_starts: failedStarts,
        code,
        signal,
      });
      stopAll();
      if (opts.onGiveUp) opts.onGiveUp();
      else process.exit(1);
      return;
    }
    // Restart at once after a crash in service; back off when workers fail at start (a port in
    // use, a bad file): 100 ms, 200 ms, 400 ms…
    const delayMs = failedStarts === 0 ? 0 : Math.min(5000, 100 * 2 ** (failedStarts - 1));
    opts.log.error('worker exited; starting another', { worker: w.id, code, signal, restart_in_ms: delayMs });
    setTimeout(fork, delayMs);
  });
  return { stop: stopAll };
}

/** In a worker: tell the primary this worker is ready (or no longer is). */
export function reportReadyToPrimary(ready = true): void {
  if (cluster.isWorker) process.send?.({ ready });
}

/** In a worker: exit when the primary is gone (its IPC channel closes), instead of serving on alone. */
export function exitWithPrimary(): void {
  if (cluster.isWorker) process.once('disconnect', () => process.exit(0));
}
