// A throw-away redis-server for benches: free port on 127.0.0.1, no persistence, its own process
// group (killed by processes.mjs's cleanup whatever happens). Needs redis-server (and redis-cli
// for info()) on PATH.
import { freePort, runToEnd, spawnTracked, stopProcess, waitUntil } from './processes.mjs';

/**
 * Starts redis-server in `dir` (its working directory). Resolves { port, url, child, info(section),
 * stop() }; info() returns redis-cli INFO <section> as an object of its fields.
 */
export async function startRedis({ dir, host = '127.0.0.1' } = {}) {
  const port = await freePort(host);
  const child = spawnTracked(
    'redis-server',
    ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    { name: 'redis-server', cwd: dir },
  );
  const cli = async (...args) => {
    const r = await runToEnd('redis-cli', ['-h', host, '-p', String(port), ...args], { timeoutMs: 5000 });
    if (r.code !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  await waitUntil(`redis-server on ${host}:${port}`, async () => (await cli('PING')).trim() === 'PONG', {
    child,
    timeoutMs: 10_000,
  });
  return {
    port,
    url: `redis://${host}:${port}`,
    child,
    cli,
    async info(section = 'all') {
      const out = {};
      for (const line of (await cli('INFO', section)).split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
      }
      return out;
    },
    stop: () => stopProcess(child, { graceMs: 3000 }),
  };
}

/** `redis-server --version`'s "v=7.0.15" part, or undefined. */
export async function redisVersion() {
  try {
    const r = await runToEnd('redis-server', ['--version'], { timeoutMs: 5000 });
    return /v=(\S+)/.exec(r.stdout)?.[1];
  } catch {
    return undefined;
  }
}

/** Total calls of one command from INFO commandstats (e.g. 'incrby'), 0 when never called. */
export function commandCalls(commandstats, command) {
  const v = commandstats[`cmdstat_${command.toLowerCase()}`];
  return v ? Number(/calls=(\d+)/.exec(v)?.[1] ?? 0) : 0;
}
