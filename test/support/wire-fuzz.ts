// Corrupted encodings for the wire decoders' tests (ext-authz's CheckRequest, ratelimit-service's
// RateLimitRequest): each is held to protobuf-es's fromBinary on the same bytes.

/**
 * `count` corrupted copies of the given encodings, the same every run (seeded): 1 to `maxFlips`
 * bytes set to random values, and one copy in five also cut short at a random length.
 */
export function* corruptedCopies(sources: Uint8Array[], count: number, seed: number, maxFlips: number) {
  let state = seed;
  const rand = (n: number) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  for (let i = 0; i < count; i++) {
    const source = sources[rand(sources.length)];
    if (source.length === 0) continue;
    const bytes = Uint8Array.from(source);
    for (let m = 0, n = 1 + rand(maxFlips); m < n; m++) bytes[rand(bytes.length)] = rand(256);
    yield rand(5) === 0 ? bytes.subarray(0, rand(bytes.length)) : bytes;
  }
}

/** What `fn` returns, or that it threw. */
export function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false } {
  try {
    return { ok: true, value: fn() };
  } catch {
    return { ok: false };
  }
}
