// Runs cleanups (stop spawned servers, remove temp dirs) when the test process exits or gets
// SIGINT/SIGTERM/SIGHUP, then lets the signal take its usual effect. One set of hooks for all.
const cleanups = new Set<() => void>();
let hooked = false;

function runAll(): void {
  for (const c of cleanups) {
    try {
      c();
    } catch {}
  }
}

export function onProcessExit(cleanup: () => void): void {
  cleanups.add(cleanup);
  if (hooked) return;
  hooked = true;
  process.once('exit', runAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      runAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
