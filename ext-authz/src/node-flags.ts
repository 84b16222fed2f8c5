// The V8 flags ext-authz runs with: in ext-authz/Dockerfile's ENTRYPOINT, in `gen up`, in the
// bench, and for the workers of `--workers N`.
//
// --max-semi-space-size=32 (V8's default is 16 MB): each check leaves ~15 KB of garbage, so at
// 30,000 checks a second a 16 MB semi-space is scavenged ~30 times a second, and a request that
// meets a scavenge waits for it. Twice the space, half the scavenges, each barely longer (what
// survives one is the calls in flight): p99 at concurrency 16 fell from 2.73–3.13 to
// 1.88–2.22 ms in alternating runs (BENCHMARKS.md), for up to 32 MB more memory per process.
export const EXT_AUTHZ_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
