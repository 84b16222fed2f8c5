// CPU accounting from /proc (Linux): CPU seconds used by a process group (a service with its
// cluster workers, redis-server, ...) and the machine's busy time, so a bench can say where the
// cores went during a run.
import fs from 'node:fs';
import os from 'node:os';

const TICK = 100; // USER_HZ: clock ticks per second in /proc (100 on every Linux we run on)

/**
 * The fields of /proc/PID/stat after the command name (f[0] state, f[1] ppid, f[2] pgrp, ...,
 * f[11] utime, f[12] stime), or undefined when the process is gone.
 */
function statFields(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system) of one live process (0 once it is gone): one file read. */
export function processCpuSeconds(pid) {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / TICK : 0;
}

/** CPU seconds (user + system) of every live process whose process group is `pgid` (reads all of /proc). */
export function groupCpuSeconds(pgid) {
  let ticks = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(entry);
    if (f && Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICK;
}

/**
 * Machine-wide CPU times from /proc/stat, in seconds (all cores summed): `busy` (run by this
 * machine's processes and kernel), `steal` (time the hypervisor gave this VM's CPUs to someone else
 * while they had work: on a shared host it comes and goes, and a run that loses it measures the
 * host, not the code) and `total`.
 */
export function machineCpuSeconds() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest* already in user)
  const idle = v[3] + v[4];
  const steal = v[7] ?? 0;
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle - steal) / TICK, steal: steal / TICK, total: total / TICK };
}

/**
 * Starts measuring: `groups` maps a label to a process-group id. stop() returns, per label, the
 * cores used on average (CPU seconds / wall seconds), plus `machine` (busy cores, all processes),
 * `steal` (cores' worth of time the hypervisor took), `stealShare` (the share of the machine's CPU
 * time it took), `cores` and `wallS`.
 */
export function startCpuMeter(groups) {
  const t0 = performance.now();
  const m0 = machineCpuSeconds();
  const g0 = Object.fromEntries(Object.entries(groups).map(([k, pgid]) => [k, groupCpuSeconds(pgid)]));
  return {
    stop() {
      const wallS = (performance.now() - t0) / 1000;
      const m1 = machineCpuSeconds();
      const total = m1.total - m0.total;
      const out = {
        wallS,
        machine: (m1.busy - m0.busy) / wallS,
        steal: (m1.steal - m0.steal) / wallS,
        stealShare: total > 0 ? (m1.steal - m0.steal) / total : 0,
        cores: os.cpus().length,
      };
      for (const [k, pgid] of Object.entries(groups)) out[k] = (groupCpuSeconds(pgid) - g0[k]) / wallS;
      return out;
    },
  };
}

/** "AMD EPYC" etc.: the first "model name" of /proc/cpuinfo (os.cpus() as a fallback). */
export function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {}
  return os.cpus()[0]?.model ?? 'unknown';
}

/**
 * Waits until the machine is quiet: busy cores (all processes) below `maxBusy` over a `windowMs`
 * window, trying for up to `timeoutMs`. Benches on a shared machine call it before each run so that
 * someone else's build or test suite does not skew the numbers. Resolves { quiet, busy, waitedMs }
 * (quiet false: it gave up, `busy` is the last window's load).
 */
export async function waitForQuietMachine({ maxBusy = 0.25, windowMs = 1000, timeoutMs = 30_000 } = {}) {
  const t0 = performance.now();
  let busy = Number.NaN;
  do {
    const a = machineCpuSeconds();
    await new Promise((r) => setTimeout(r, windowMs));
    const b = machineCpuSeconds();
    busy = (b.busy - a.busy) / (windowMs / 1000);
    if (busy < maxBusy) return { quiet: true, busy, waitedMs: performance.now() - t0 };
  } while (performance.now() - t0 < timeoutMs);
  return { quiet: false, busy, waitedMs: performance.now() - t0 };
}
