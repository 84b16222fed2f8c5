// Child processes for benches: each one runs in its own process group, is tracked, and is killed
// (the whole group, so cluster workers too) when the bench ends, fails, times out or gets Ctrl-C.
//
//   import { installCleanup, spawnTracked, stopProcess, freePort, waitForHttp } from './lib/processes.mjs';
//   installCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
//
// Only node: built-ins.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';

/** Every child still running (a Set of ChildProcess). */
const live = new Set();
const onExit = [];
let installed = false;

/** SIGKILLs the process group of a child started by spawnTracked (no-op when it has gone). */
export function killGroup(child) {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
}

/**
 * Runs `fn` with the process groups of every child in `targets` but `active` (children started
 * by spawnTracked) stopped: SIGSTOP before, SIGCONT after, whatever happens. A bench keeps every target running from round
 * to round, and an idle Node process is not quiet: it runs its timers and, seconds after its own
 * load, V8's memory reducer (full collections of up to ~100 ms), in bursts on the cores the
 * target being measured shares. A stopped process takes none. (If the bench itself is killed
 * with SIGKILL meanwhile, the stopped groups stay stopped: `kill -KILL -PGID` ends them.)
 */
export async function withOthersStopped(targets, active, fn) {
  const signal = (sig) => {
    for (const child of targets) {
      if (child === active || !child?.pid) continue;
      try {
        process.kill(-child.pid, sig);
      } catch {}
    }
  };
  signal('SIGSTOP');
  try {
    return await fn();
  } finally {
    signal('SIGCONT');
  }
}

/**
 * Kills every tracked child when this process exits, whatever the reason: normal end,
 * process.exit, an uncaught error, SIGINT/SIGTERM/SIGHUP (then exit code 130). `extra` (optional)
 * runs after the kills, synchronously (e.g. removing a temporary folder). Call it once, early.
 */
export function installCleanup(extra) {
  if (extra) onExit.push(extra);
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const child of live) killGroup(child);
    live.clear();
    for (const f of onExit.splice(0)) {
      try {
        f();
      } catch {}
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`\ninterrupted (${sig}); stopping ${live.size} child process(es)`);
      process.exit(130);
    });
  }
}

/**
 * The last `keep` bytes of a stream, in amortised constant time per chunk: a service that
 * logs every request (ext-authz's audit lines, megabytes a second) must not make the bench copy
 * its whole kept tail on each chunk, on the cores the measured processes share.
 */
function outputTail(keep) {
  let chunks = [];
  let size = 0;
  const collapse = () => {
    const all = Buffer.concat(chunks);
    const kept = all.subarray(Math.max(0, all.length - keep));
    chunks = [kept];
    size = kept.length;
    return kept;
  };
  return {
    push(d) {
      chunks.push(d);
      size += d.length;
      if (size > 2 * keep) collapse();
    },
    text() {
      return collapse().toString('utf8');
    },
  };
}

/**
 * Spawns `cmd args` in a new process group (detached), tracked for cleanup. stdout/stderr are
 * collected (the last `keepBytes` of each) in child.output.stdout / child.output.stderr; `onLine`
 * (optional) sees each stdout+stderr line as it comes. `name` is used in messages.
 */
export function spawnTracked(cmd, args, { name = cmd, cwd, env, onLine, keepBytes = 64 * 1024 } = {}) {
  const child = spawn(cmd, args, { cwd, env: env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.benchName = name;
  const tails = { stdout: outputTail(keepBytes), stderr: outputTail(keepBytes) };
  child.output = {
    get stdout() {
      return tails.stdout.text();
    },
    get stderr() {
      return tails.stderr.text();
    },
  };
  live.add(child);
  const collect = (stream, key) => {
    let partial = '';
    // Bytes are kept as they come; they are decoded only for onLine, or when the tail is read.
    const decoder = onLine ? new StringDecoder('utf8') : undefined;
    stream.on('data', (d) => {
      tails[key].push(d);
      if (decoder) {
        const lines = (partial + decoder.write(d)).split('\n');
        partial = lines.pop();
        for (const l of lines) onLine(l, key);
      }
    });
  };
  collect(child.stdout, 'stdout');
  collect(child.stderr, 'stderr');
  // 'close', not 'exit': the output is complete only once the pipes are closed (they stay open
  // while a grandchild holds them; stopProcess kills the group, which closes them).
  child.exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (error) => {
      live.delete(child);
      resolve({ code: null, signal: null, error });
    });
  });
  return child;
}

/**
 * Stops a child started by spawnTracked: `signal` (default SIGTERM) to the process itself, then
 * SIGKILL to its whole group after `graceMs` if it has not exited (and always to the group at the
 * end, for grandchildren). Resolves with its exit { code, signal }.
 */
export async function stopProcess(child, { signal = 'SIGTERM', graceMs = 5000 } = {}) {
  if (!child) return undefined;
  if (child.exitCode === null && child.signalCode === null) {
    try {
      child.kill(signal);
    } catch {}
  }
  let timer;
  const result = await Promise.race([
    child.exited,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(undefined), graceMs);
    }),
  ]);
  clearTimeout(timer);
  killGroup(child);
  return result ?? (await child.exited);
}

/**
 * Runs a command to its end (tracked, own process group), killed after `timeoutMs`; `onSpawn(child)`
 * (optional) gets the child once started. Resolves with { code, signal, stdout, stderr, ms,
 * timedOut }; never rejects for a non-zero exit.
 */
export async function runToEnd(cmd, args, { timeoutMs, onSpawn, ...opts } = {}) {
  const t0 = performance.now();
  const child = spawnTracked(cmd, args, opts);
  onSpawn?.(child);
  let timedOut = false;
  const timer = timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, timeoutMs)
    : undefined;
  const r = await child.exited;
  clearTimeout(timer);
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { ...r, stdout: child.output.stdout, stderr: child.output.stderr, ms: performance.now() - t0, timedOut };
}

/** A TCP port free on `host` right now (the OS picks it). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET http://host:port/path once; resolves { status, body } (rejects on connection errors). */
export function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/**
 * Polls `check()` (async; truthy = ready) every `intervalMs` until it is truthy or `timeoutMs`
 * passes; fails early when `child` (optional) exits. Rejects with a message naming `what`.
 */
export async function waitUntil(what, check, { timeoutMs = 15_000, intervalMs = 50, child } = {}) {
  const deadline = performance.now() + timeoutMs;
  let last;
  while (performance.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(
        `${child.benchName ?? 'process'} exited (code ${child.exitCode}, signal ${child.signalCode}) before ${what}\n` +
          tail(child),
      );
    }
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}` +
      (child ? `\n${tail(child)}` : ''),
  );
}

/** Waits for GET url to answer 200. */
export function waitForHttp200(url, opts) {
  return waitUntil(`${url} → 200`, async () => (await httpGet(url, 1000)).status === 200, opts);
}

/** Waits until a TCP connection to host:port succeeds. */
export function waitForTcp(host, port, opts) {
  return waitUntil(
    `${host}:${port} to accept connections`,
    () =>
      new Promise((resolve) => {
        const s = net.connect({ host, port });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
    opts,
  );
}

/** The last lines of a child's output, for error messages. */
export function tail(child, lines = 20) {
  const text = `${child.output?.stdout ?? ''}${child.output?.stderr ?? ''}`.trimEnd().split('\n');
  return text
    .slice(-lines)
    .map((l) => `  | ${l}`)
    .join('\n');
}
