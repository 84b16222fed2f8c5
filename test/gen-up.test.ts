// gen up: the local stack starts both services from one gateway file, says where they listen,
// and stops them all on Ctrl-C (SIGINT).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePortRange } from './harness/redis-server.js';
import { repoRoot } from './support/compile-file.js';

describe('gen up', () => {
  it('starts ratelimit-service and ext-authz, answers checks, and stops cleanly on SIGINT', async () => {
    const base = await freePortRange(6); // gen up uses base … base+4
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'dist/generator/src/cli.js'), 'up', 'examples/minimal.yaml', '--base-port', String(base)],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const end = Date.now() + 30_000;
      while (!out.includes('gen up: ready') && Date.now() < end && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('gen up: ready');
      expect(out).toContain(`ext-authz          gRPC 127.0.0.1:${base + 2}`);
      expect((await fetch(`http://127.0.0.1:${base + 1}/readyz`)).status).toBe(200);
      const denied = await fetch(`http://127.0.0.1:${base + 3}/check?policy=openai`, {
        method: 'POST',
        body: '{"model":"gpt-4o"}',
      });
      expect(denied.status).toBe(401);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('gen up: stopping');
    await expect(fetch(`http://127.0.0.1:${base + 3}/healthz`)).rejects.toThrow();
  }, 60_000);
});
