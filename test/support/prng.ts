// A seeded pseudo-random generator (xorshift32) for fuzz and property tests: the same sequence
// on every run, so a failure reproduces.

/** Numbers in [0, 1), the same sequence for the same seed. */
export function prng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}
