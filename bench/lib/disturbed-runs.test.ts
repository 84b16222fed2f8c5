import { describe, expect, it, vi } from 'vitest';

// The bench libraries are plain ES modules without type declarations: typed here as used.
interface Run {
  latency: { p99: number };
  cpu: { stealShare: number };
}
interface DisturbedRuns {
  STEAL_MAX_SHARE: number;
  p99Verdict(row: { runs: Run[] }, targetMs: number, reference?: { runs: Run[] }, referenceName?: string): string;
  leastDisturbed<A>(
    once: () => Promise<A>,
    o: { retries: number; disturbance: (a: A) => string | undefined; score: (a: A) => number },
  ): Promise<A & { attempts: number; others: A[] }>;
}
const lib = (await import('./disturbed-runs.mjs' as string)) as DisturbedRuns;

const run = (p99: number, stealShare: number): Run => ({ latency: { p99 }, cpu: { stealShare } });

describe('p99Verdict', () => {
  it('judges the median of every round when the hypervisor took nothing', () => {
    expect(lib.p99Verdict({ runs: [run(2.5, 0), run(3.2, 0.01), run(2.9, 0.02)] }, 3)).toBe(
      'median 2.90 ms (rounds 2.50, 3.20, 2.90) → MET (target < 3 ms)',
    );
    expect(lib.p99Verdict({ runs: [run(3.1, 0), run(3.2, 0)] }, 3)).toMatch(/median 3.15 ms .* → MISSED/);
  });

  it('leaves out the rounds stolen from, and lists them with their steal', () => {
    const v = lib.p99Verdict({ runs: [run(2.4, 0.01), run(6.5, 0.3), run(2.8, 0.04)] }, 3);
    expect(v).toBe(
      'median 2.60 ms over 2 undisturbed round(s) of 3 (rounds 2.40, 6.50 (steal 30%), 2.80) → MET (target < 3 ms)',
    );
  });

  it('does not judge when every round was stolen from', () => {
    const v = lib.p99Verdict({ runs: [run(2.0, 0.2), run(2.1, 0.06)] }, 3);
    expect(v).toMatch(/→ NOT JUDGED: the hypervisor took over 5% of the CPU in every round/);
    expect(v).not.toMatch(/MET|MISSED/);
  });

  it("quotes the reference server's p99 of the same rounds", () => {
    const v = lib.p99Verdict(
      { runs: [run(2.5, 0), run(3.5, 0.2)] },
      3,
      { runs: [run(2.2, 0), run(3.1, 0.2)] },
      'the grpc-js no-op',
    );
    expect(v).toBe(
      'median 2.50 ms over 1 undisturbed round(s) of 2 (rounds 2.50, 3.50 (steal 20%)) → MET (target < 3 ms); the grpc-js no-op in the same rounds: 2.20, 3.10 (steal 20%) ms',
    );
  });

  it('counts a steal share at the limit as undisturbed', () => {
    expect(lib.p99Verdict({ runs: [run(2, lib.STEAL_MAX_SHARE)] }, 3)).toMatch(/→ MET/);
  });
});

describe('leastDisturbed', () => {
  const attempts = (shares: number[]) => {
    let i = 0;
    return vi.fn(async () => ({ n: i, share: shares[i++] }));
  };
  const o = (retries: number) => ({
    retries,
    disturbance: (a: { share: number }) => (a.share > 0.05 ? 'stolen' : undefined),
    score: (a: { share: number }) => a.share,
  });

  it('keeps the first attempt that was not disturbed, saying why it ran again', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const once = attempts([0.2, 0.01, 0]);
    const r = await lib.leastDisturbed(once, o(2));
    expect(log.mock.calls).toEqual([['    stolen during this run: running it again']]);
    log.mockRestore();
    expect(once).toHaveBeenCalledTimes(2);
    expect(r).toMatchObject({ n: 1, share: 0.01, attempts: 2 });
    expect(r.others).toEqual([{ n: 0, share: 0.2 }]);
  });

  it('stops after the retries and keeps the least disturbed attempt', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const once = attempts([0.3, 0.1, 0.2, 0]);
    const r = await lib.leastDisturbed(once, o(2));
    expect(once).toHaveBeenCalledTimes(3);
    expect(r).toMatchObject({ n: 1, attempts: 3 });
    expect(r.others.map((x) => x.n)).toEqual([0, 2]);
    vi.restoreAllMocks();
  });

  it('keeps the undisturbed attempt even when a disturbed one scored lower', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    // Disturbed by its own measure (steal), though it lost fewer cores than the clean retry.
    const runs = [
      { n: 0, stolen: true, lost: 0.13 },
      { n: 1, stolen: false, lost: 0.28 },
    ];
    let i = 0;
    const r = await lib.leastDisturbed(async () => runs[i++], {
      retries: 2,
      disturbance: (a) => (a.stolen ? 'stolen' : undefined),
      score: (a) => a.lost,
    });
    expect(r).toMatchObject({ n: 1, attempts: 2 });
    expect(r.others.map((x) => x.n)).toEqual([0]);
    vi.restoreAllMocks();
  });

  it('runs once with no retries', async () => {
    const once = attempts([0.3, 0]);
    const r = await lib.leastDisturbed(once, o(0));
    expect(once).toHaveBeenCalledTimes(1);
    expect(r).toMatchObject({ n: 0, attempts: 1, others: [] });
  });
});
