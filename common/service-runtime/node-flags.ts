// Node/V8 flags a service wants from its start. V8 sizes its heap before any of our code runs, so
// such a flag cannot be set from inside (v8.setFlagsFromString does not resize a heap): it goes on
// the command line (the Dockerfile's ENTRYPOINT, `gen up`, the benches) or in NODE_OPTIONS, and
// the primary of `--workers N` hands it to the workers it forks.

/** The flags of `wanted` this process was not started with (on its command line or in NODE_OPTIONS). */
export function missingNodeFlags(
  wanted: readonly string[],
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map(flagName));
  return wanted.filter((flag) => !given.has(flagName(flag)));
}

/** `--max_semi_space_size=32` and `--max-semi-space-size=16` are the same flag to V8. */
function flagName(flag: string): string {
  return flag.split('=')[0].replaceAll('_', '-');
}
