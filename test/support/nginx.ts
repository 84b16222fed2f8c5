// Real nginx processes for tests: `nginx` in the foreground (daemon off, one process) on a free
// 127.0.0.1 port, with its pid, logs, lock and temp files in a temporary directory, stopped by the
// tests (stop()) and, as a safety net, when the test process exits or is killed.
//
//   describe.skipIf(!nginxAvailable())(`… ${nginxSkipReason()}`, …)
//   const nginx = await startNginx(({ port }) => ({ http: `server { listen 127.0.0.1:${port}; … }` }));
//   await fetch(`http://127.0.0.1:${nginx.port}/…`); nginx.errorLog(); await nginx.stop();
//
// `conf` returns either the contents of the `http { }` block (the main context, the temp paths and
// the access log are filled in here) or a complete nginx.conf (then it is written as is: use the
// prefix for pid, error_log, lock_file and the *_temp_path directives, and listen on 127.0.0.1:port).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../harness/redis-server.js';
import { onProcessExit } from './exit-cleanup.js';

const NGINX_BIN = process.env['NGINX_BIN'] ?? 'nginx';
const START_TIMEOUT_MS = 10_000;

export interface NginxPorts {
  /** The port nginx must listen on, on 127.0.0.1. */
  port: number;
  /** The temp directory nginx runs in (its -p prefix), with a trailing slash. */
  prefix: string;
}

export interface Nginx {
  port: number;
  /** SIGTERM (SIGKILL after 5 s), wait for the exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** The error log so far (start-up messages and what nginx logged while serving). */
  errorLog(): string;
  /** The access log so far ('' with a complete conf that logs elsewhere). */
  accessLog(): string;
}

// ------------------------------------------------------------------------------------- availability

let nginxVersion: string | null | undefined;

function version(): string | null {
  if (nginxVersion !== undefined) return nginxVersion;
  // `nginx -v` prints "nginx version: nginx/1.22.1" on stderr and exits 0.
  const r = spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
  nginxVersion = r.error || r.status !== 0 ? null : (/nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? '0.0.0');
  return nginxVersion;
}

/** Is `nginx` on PATH (or $NGINX_BIN)? */
export function nginxAvailable(): boolean {
  return version() !== null;
}

/** The nginx version ('1.22.1'), or undefined when nginx is absent. */
export function nginxVersionString(): string | undefined {
  return version() ?? undefined;
}

/** One line for describe titles: why nginx tests cannot run here, or '' when they can. */
export function nginxSkipReason(): string {
  return nginxAvailable()
    ? ''
    : `skipped: ${NGINX_BIN} not found on PATH (install nginx, e.g. Debian nginx-light, or set NGINX_BIN)`;
}

// ------------------------------------------------------------------------------------------ cleanup

const live = new Map<ChildProcess, string>();

function cleanupNow(): void {
  for (const [child, dir] of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}

const hookExit = () => onProcessExit(cleanupNow);

/**
 * The exit hooks do not run when the test process is SIGKILLed. A detached `sh` waits for this
 * process to disappear, then kills nginx and removes the dir; stop() ends it.
 */
function watchdog(dir: string, pid: number): ChildProcess | undefined {
  const script =
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` + `kill -9 ${pid} 2>/dev/null; rm -rf '${dir}'`;
  try {
    const w = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true });
    w.on('error', () => {});
    w.unref();
    return w;
  } catch {
    return undefined; // no sh: the exit hooks remain
  }
}

// ------------------------------------------------------------------------------------------- config

/** A complete nginx.conf around an `http { }` body: foreground, one process, everything under prefix. */
export function nginxConf(prefix: string, http: string): string {
  const p = (f: string) => path.join(prefix, f);
  // As root nginx would otherwise switch to `nobody` (and chown its temp dirs to it); keep root so
  // nothing depends on the permissions of the 0700 temp dir. Elsewhere the directive is ignored
  // with a warning, so leave it out.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `# written by test/support/nginx.ts
${user}daemon off;
master_process off;
worker_processes 1;
pid ${p('nginx.pid')};
lock_file ${p('nginx.lock')};
error_log ${p('error.log')} info;

events {
  worker_connections 256;
}

http {
  access_log ${p('access.log')};
  client_body_temp_path ${p('tmp/body')};
  proxy_temp_path ${p('tmp/proxy')};
  fastcgi_temp_path ${p('tmp/fastcgi')};
  uwsgi_temp_path ${p('tmp/uwsgi')};
  scgi_temp_path ${p('tmp/scgi')};

${http}
}
`;
}

// ------------------------------------------------------------------------------------------- start

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(dir: string, conf: (ports: NginxPorts) => string | { http: string }): Promise<Nginx> {
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  const port = await freePort();
  const c = conf({ port, prefix });
  const text = typeof c === 'string' ? c : nginxConf(prefix, c.http);
  const confFile = path.join(dir, 'nginx.conf');
  fs.writeFileSync(confFile, text);
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true }); // nginx creates the *_temp_path leaves only
  const errorFile = path.join(dir, 'error.log');
  const earlyFile = path.join(dir, 'early-error.log');
  const accessFile = path.join(dir, 'access.log');

  // -e: the log for messages before the configuration is read (the compiled-in default is stderr
  // on Debian, /var/log/nginx/error.log elsewhere: never touch it).
  const child = spawn(NGINX_BIN, ['-p', prefix, '-c', confFile, '-e', earlyFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  live.set(child, dir);
  child.once('exit', () => live.delete(child));
  const dog = child.pid !== undefined ? watchdog(dir, child.pid) : undefined;
  const errorLog = () => [read(earlyFile), read(errorFile), out].filter(Boolean).join('');

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const done = exited(child);
        child.kill('SIGTERM'); // fast shutdown
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(t);
      }
      live.delete(child);
      if (dog && dog.exitCode === null && dog.signalCode === null) dog.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      await stop();
      throw spawnError;
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = errorLog();
      await stop();
      throw new NginxStartError(`nginx exited (${child.exitCode ?? child.signalCode}):\n${log}`, log);
    }
    if (await accepts(port)) return { port, stop, errorLog, accessLog: () => read(accessFile) };
    if (Date.now() > deadline) {
      const log = errorLog();
      await stop();
      throw new Error(`nginx did not accept connections on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms:\n${log}`);
    }
    await sleep(25);
  }
}

class NginxStartError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
  }
}

/**
 * Starts nginx with the configuration `conf` builds for a free port, and waits until it accepts
 * connections. Retries with another port when the one picked was taken in the meantime.
 */
export async function startNginx(conf: (ports: NginxPorts) => string | { http: string }): Promise<Nginx> {
  if (!nginxAvailable()) throw new Error(nginxSkipReason());
  hookExit();
  for (let attempt = 1; ; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigw-nginx-'));
    try {
      return await launch(dir, conf);
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      const inUse = e instanceof NginxStartError && /Address already in use/.test(e.log);
      if (!inUse || attempt >= 3) throw e;
    }
  }
}
