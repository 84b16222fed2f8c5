// Runs disturbed by the machine rather than by the code: on a shared VM the hypervisor takes the
// CPUs away now and then (steal time in /proc/stat) and other processes may run. On the 2-vCPU VMs
// here steal ranged from 0 to over 40% within minutes, and the no-op gRPC server's throughput at
// concurrency 16 fell from ~16,000 to ~4,000 requests/s with it: such a run measures the host.
//
// A bench repeats a disturbed run (up to --retries times) and keeps the least disturbed attempt;
// an absolute latency target is judged on the undisturbed rounds only, and says so when none was.
import { fmt } from './markdown.mjs';
import { median } from './rounds.mjs';

/** The hypervisor's share of a run's CPU time (cpu.stealShare) above which the run is disturbed. */
export const STEAL_MAX_SHARE = 0.05;

/** "steal 24%": the hypervisor's share of a run's CPU time. */
export function stealNote(cpu) {
  return `steal ${Math.round((cpu.stealShare ?? 0) * 100)}%`;
}

/** Whether the run's steal was above STEAL_MAX_SHARE. */
export function stolen(run) {
  return (run.cpu?.stealShare ?? 0) > STEAL_MAX_SHARE;
}

/**
 * Runs `once()` until `disturbance(attempt)` is undefined or `retries` extra attempts were made,
 * and resolves the undisturbed attempt if there is one, else the one with the lowest
 * `score(attempt)` (how disturbed it was), with `attempts` (how many ran) and `others` (the
 * discarded ones). `disturbance` returns a sentence ("the hypervisor took 24% of the CPU") or
 * undefined; it is logged before each retry. `verify` (optional): async () => (async (attempt) =>
 * result), called around every attempt; the result is stored as the attempt's `verified`.
 */
export async function leastDisturbed(once, { retries, disturbance, score, verify }) {
  const attempts = [];
  let best;
  for (;;) {
    const after = await verify?.();
    const a = await once();
    if (after) a.verified = await after(a);
    attempts.push(a);
    const why = disturbance(a);
    if (why === undefined) {
      best = a;
      break;
    }
    if (attempts.length > retries) break;
    console.error(`    ${why} during this run: running it again`);
  }
  best ??= attempts.reduce((x, y) => (score(y) < score(x) ? y : x));
  return { ...best, attempts: attempts.length, others: attempts.filter((x) => x !== best) };
}

/**
 * The verdict on a p99 target for one summary row (summariseRounds): the median p99 over the rounds
 * whose run was not stolen from, against `targetMs`. Every round's p99 is listed, a stolen one with
 * its steal; with no undisturbed round the target is NOT JUDGED. `reference` (optional): the
 * summary row of the baseline server at the same concurrency, whose p99 in the same rounds is
 * quoted after the verdict (what the machine allowed a server doing nothing), `referenceName` its
 * name.
 */
export function p99Verdict(row, targetMs, reference, referenceName = 'the no-op') {
  const rounds = p99List(row.runs);
  const clean = row.runs.filter((x) => !stolen(x));
  const context = reference ? `; ${referenceName} in the same rounds: ${p99List(reference.runs)} ms` : '';
  if (clean.length === 0)
    return `rounds ${rounds} → NOT JUDGED: the hypervisor took over ${STEAL_MAX_SHARE * 100}% of the CPU in every round (target < ${targetMs} ms)${context}`;
  const p99 = median(clean.map((x) => x.latency.p99));
  const over =
    clean.length === row.runs.length ? '' : ` over ${clean.length} undisturbed round(s) of ${row.runs.length}`;
  return `median ${fmt(p99, 2)} ms${over} (rounds ${rounds}) → ${p99 < targetMs ? 'MET' : 'MISSED'} (target < ${targetMs} ms)${context}`;
}

/** "2.50, 3.50 (steal 20%)": each run's p99, a stolen one with its steal. */
function p99List(runs) {
  return runs.map((x) => `${fmt(x.latency.p99, 2)}${stolen(x) ? ` (${stealNote(x.cpu)})` : ''}`).join(', ');
}
