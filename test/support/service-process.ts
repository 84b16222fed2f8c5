// Starts our services as real processes from the built package (dist/, built by `npm test`'s
// pretest), the way a user or a container runs them, and waits until they are ready.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../harness/redis-server.js';
import { repoRoot } from './compile-file.js';

export interface ServiceProcess {
  grpcPort: number;
  httpPort: number;
  /** stdout + stderr so far (JSON log lines). */
  output(): string;
  /**
   * The log lines containing `text`, once there are at least `count` of them (ext-authz writes its
   * audit lines in batches, up to 20 ms after the response). Rejects
   * after `timeoutMs`.
   */
  linesWith(text: string, count?: number, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<void>;
  readonly child: ChildProcess;
}

const bins = {
  'ratelimit-service': 'dist/ratelimit-service/src/main.js',
  'ext-authz': 'dist/ext-authz/src/main.js',
} as const;

export async function startService(
  name: keyof typeof bins,
  args: string[],
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const bin = path.join(repoRoot, bins[name]);
  if (!fs.existsSync(bin)) throw new Error(`${bins[name]} is missing: run npm run build (npm test does it first)`);
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const child = spawn(
    process.execPath,
    [bin, '--host', '127.0.0.1', '--grpc-port', String(grpcPort), '--http-port', String(httpPort), ...args],
    {
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      if (r.status === 200) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within 15 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    grpcPort,
    httpPort,
    child,
    output: () => out,
    linesWith: async (text, count = 1, timeoutMs = 2000) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const lines = out.split('\n').filter((l) => l.includes(text));
        if (lines.length >= count) return lines;
        if (Date.now() > end)
          throw new Error(`${count} log line(s) with ${JSON.stringify(text)} not seen in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
