// Real Redis servers for tests: `redis-server` processes on free local ports, in temporary directories,
// stopped by the tests (afterAll) and, as a safety net, when the test process exits.
//
//   if (!redisAvailable()) describe.skip(`… (skipped: ${redisSkipReason()})`, …)
//   const redis = await startRedis();   // redis.url, redis.kill(), redis.restart(), redis.stop()
//   const cluster = await startRedisCluster(3);
//
// Only the local-binary path is implemented (no testcontainers): it is what runs here and in CI images
// that install redis-server (Debian/Ubuntu package `redis-server`, which brings redis-cli).
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { onProcessExit } from '../support/exit-cleanup.js';

const SERVER_BIN = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
const CLI_BIN = process.env['REDIS_CLI_BIN'] ?? 'redis-cli';
const START_TIMEOUT_MS = 10_000;

// ------------------------------------------------------------------------------------- availability

let serverVersion: string | null | undefined;

function version(): string | null {
  if (serverVersion !== undefined) return serverVersion;
  try {
    const out = execFileSync(SERVER_BIN, ['--version'], { encoding: 'utf8', timeout: 5000 });
    serverVersion = /v=(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? '0.0.0';
  } catch {
    serverVersion = null;
  }
  return serverVersion;
}

function cliAvailable(): boolean {
  try {
    execFileSync(CLI_BIN, ['--version'], { encoding: 'utf8', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Is `redis-server` on PATH (or $REDIS_SERVER_BIN)? */
export function redisAvailable(): boolean {
  return version() !== null;
}

/** Are both `redis-server` and `redis-cli` there (startRedisCluster needs redis-cli)? */
export function redisClusterAvailable(): boolean {
  return redisAvailable() && cliAvailable();
}

/** One line for describe.skip titles: why Redis tests cannot run here, or '' when they can. */
export function redisSkipReason(cluster = false): string {
  if (!redisAvailable()) return `${SERVER_BIN} not found on PATH (install redis-server or set REDIS_SERVER_BIN)`;
  if (cluster && !cliAvailable()) return `${CLI_BIN} not found on PATH (needed to create the cluster)`;
  return '';
}

// ------------------------------------------------------------------------------------------ cleanup

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

function cleanupNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const d of [...dirs]) removeDir(d);
}

const hookExit = () => onProcessExit(cleanupNow);

// The exit hooks do not run when the test process is SIGKILLed (a killed vitest worker, a cut pipe).
// So every temp dir also gets a watchdog: a detached `sh` that waits for this process to disappear,
// then SIGKILLs the servers listed in <dir>/pids and removes the dir. It is ended by removeDir().
const watchdogs = new Map<string, ChildProcess>();

function tempDir(prefix: string): string {
  hookExit();
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(d);
  const script =
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    `for p in $(cat '${d}/pids' 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; rm -rf '${d}'`;
  try {
    const w = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true });
    w.on('error', () => {});
    w.unref();
    watchdogs.set(d, w);
  } catch {
    // no sh: the exit hooks remain
  }
  return d;
}

/** Pids of the servers living in each temp dir, mirrored to <dir>/pids for the watchdog. */
const dirPids = new Map<string, Set<number>>();

function trackPid(d: string, pid: number | undefined, alive: boolean): void {
  if (pid === undefined) return;
  const set = dirPids.get(d) ?? new Set<number>();
  dirPids.set(d, set);
  if (alive) set.add(pid);
  else set.delete(pid);
  try {
    writeFileSync(join(d, 'pids'), [...set].join('\n') + '\n');
  } catch {
    // dir already removed
  }
}

function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  dirs.delete(d);
  dirPids.delete(d);
  const w = watchdogs.get(d);
  watchdogs.delete(d);
  if (w && w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
}

// ---------------------------------------------------------------------------------------- utilities

/** A TCP port nobody listens on right now (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive ports that are all free right now, below Linux's ephemeral
 * range (32768+) so that ports the OS hands out to other tests' connections do not collide.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (32_000 - 20_000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await canBind(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs one command on 127.0.0.1:port over a throw-away connection; rejects fast if nothing answers. */
export async function redisCommand(port: number, command: string, ...args: (string | number)[]): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 500,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(command, ...args);
  } finally {
    client.disconnect();
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawns redis-server with the given arguments and waits until it answers PING. */
async function spawnServer(port: number, args: string[], dir: string, logName: string): Promise<ChildProcess> {
  if (!redisAvailable()) throw new Error(redisSkipReason());
  hookExit();
  const logfile = join(dir, logName);
  const child = spawn(
    SERVER_BIN,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args, '--logfile', logfile],
    { stdio: 'ignore' },
  );
  live.add(child);
  trackPid(dir, child.pid, true);
  child.once('exit', () => {
    live.delete(child);
    trackPid(dir, child.pid, false);
  });
  child.unref();
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode}):\n${tail(logfile)}`);
    try {
      if ((await redisCommand(port, 'PING')) === 'PONG') return child;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${tail(logfile)}`,
      );
    }
    await sleep(25);
  }
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  if (signal !== 'SIGKILL') child.kill('SIGCONT'); // a paused server would not act on SIGTERM
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

// ----------------------------------------------------------------------------------- single server

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Process id of the current server process (changes on restart). */
  readonly pid: number | undefined;
  /** SIGTERM, wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), wait for exit. restart() brings it back. */
  kill(): Promise<void>;
  /** Start again on the same port (killing the current process first if it still runs); empty data. */
  restart(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but stops answering (a hung/slow Redis). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

/** Starts a standalone redis-server on a free port (no persistence), waiting until it answers PING. */
export async function startRedis(opts: { args?: string[] } = {}): Promise<RedisServer> {
  const dir = tempDir('rl-redis-');
  const args = ['--save', '', '--appendonly', 'no', ...(opts.args ?? [])];
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      child = await spawnServer(port, args, dir, 'redis.log');
      break;
    } catch (e) {
      if (attempt >= 3) {
        removeDir(dir);
        throw e; // the port may have been taken between freePort() and bind: retry with another
      }
    }
  }
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(child, 'SIGTERM');
      removeDir(dir);
    },
    async kill() {
      await stopChild(child, 'SIGKILL');
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await stopChild(child, 'SIGKILL');
      child = await spawnServer(port, args, dir, 'redis.log');
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
}

// ---------------------------------------------------------------------------------------- cluster

export interface RedisClusterNode {
  url: string;
  port: number;
  /** Slot ranges [first, last] this master serves. */
  slots: [number, number][];
  /** SIGKILL this node. */
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
}

export interface RedisCluster {
  /** One URL per master (any of them is a valid seed). */
  urls: string[];
  nodes: RedisClusterNode[];
  /** Which node serves a slot (index into nodes). */
  nodeOfSlot(slot: number): number;
  /** Stops every node and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL node i (no replicas: its slots become unavailable; the other masters keep serving). */
  killNode(i: number): Promise<void>;
}

function atLeast(v: string, major: number): boolean {
  return Number(v.split('.')[0]) >= major;
}

/**
 * Starts `masters` cluster-enabled redis-servers (no replicas), joins them with
 * `redis-cli --cluster create`, and waits until every node reports cluster_state:ok.
 * `cluster-require-full-coverage no`: when a master dies, the others keep serving their slots.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  if (!redisClusterAvailable()) throw new Error(redisSkipReason(true));
  if (masters < 3) throw new Error('redis-cli --cluster create needs at least 3 masters');
  const v = version()!;
  const dir = tempDir('rl-cluster-');
  const children: (ChildProcess | undefined)[] = [];
  const ports: number[] = [];
  const taken = new Set<number>();
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map((c) => stopChild(c, 'SIGKILL')));
    removeDir(dir);
  };
  const pick = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  try {
    await Promise.all(
      Array.from({ length: masters }, async (_, i) => {
        for (let attempt = 1; ; attempt++) {
          let port = await pick();
          const bus: string[] = [];
          if (atLeast(v, 7)) bus.push('--cluster-port', String(await pick()));
          else while (port + 10000 > 65535) port = await pick(); // bus port is port + 10000 before Redis 7
          const args = [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '2000',
            '--cluster-require-full-coverage',
            'no',
            ...bus,
            '--save',
            '',
            '--appendonly',
            'no',
          ];
          try {
            children[i] = await spawnServer(port, args, dir, `redis-${port}.log`);
            ports[i] = port;
            return;
          } catch (e) {
            if (attempt >= 3) throw e;
          }
        }
      }),
    );
    await new Promise<void>((resolve, reject) => {
      execFile(
        CLI_BIN,
        ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: 30_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`redis-cli --cluster create: ${err.message}\n${stdout}${stderr}`)) : resolve(),
      );
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const infos = await Promise.all(ports.map((p) => redisCommand(p, 'CLUSTER', 'INFO').catch(() => '')));
      if (infos.every((i) => String(i).includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new Error(`cluster not ok after 20 s:\n${infos.join('\n---\n')}`);
      await sleep(50);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  const slotsReply = (await redisCommand(ports[0], 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const nodes: RedisClusterNode[] = ports.map((port, i) => ({
    url: `redis://127.0.0.1:${port}`,
    port,
    slots: slotsReply.filter((r) => Number(r[2][1]) === port).map((r) => [Number(r[0]), Number(r[1])]),
    kill: () => stopChild(children[i], 'SIGKILL'),
    pause: () => {
      children[i]?.kill('SIGSTOP');
    },
    resume: () => {
      children[i]?.kill('SIGCONT');
    },
  }));
  return {
    urls: nodes.map((n) => n.url),
    nodes,
    nodeOfSlot(slot) {
      return nodes.findIndex((n) => n.slots.some(([a, b]) => slot >= a && slot <= b));
    },
    stop: stopAll,
    killNode: (i) => nodes[i].kill(),
  };
}
