// The V8 flags ext-authz runs with: in ext-authz/Dockerfile's ENTRYPOINT, in `gen up`, in the
// bench, and for the workers of `--workers N`.
//
// --max-semi-space-size=4 (V8's default on Node 20: up to 16 MB): keep the young generation
// small. Each check leaves ~6 KB of garbage, so a small young generation is scavenged often (50-90
// times a second under load), each scavenge ~0.4 ms. Once V8 had let it grow (to 16-32 MB, after
// a burst at concurrency 64), each scavenge also promoted a few MB and took 4-9 ms, and the
// checks' p99 at concurrency 16 stayed at 3.5-5 ms in every later round of the bench; capped at
// 4 MB, it stayed at 1.8-2.2 ms (BENCHMARKS.md, 2026-12-06 second session). (With ~15 KB per check,
// an earlier session had found 32 MB better than the default, before the later rounds were looked at.)
export const EXT_AUTHZ_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
