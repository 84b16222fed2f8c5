import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendCredential } from './policy.js';
import { CredentialUnavailable, UpstreamCredentials } from './upstream-credentials.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upstream-credentials-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const backend = (name: string, credential: Partial<BackendCredential['credential']>): BackendCredential => ({
  name,
  kind: 'openai-compatible',
  credential: { header: 'authorization', prefix: '', ...credential },
  forward_header: `x-aigw-credential-${name}`,
});

/** Writes `text` to `file` with a modification time `ms` (a rotation Kubernetes-style: new content, new mtime). */
function write(file: string, text: string, ms: number): void {
  fs.writeFileSync(file, text);
  fs.utimesSync(file, ms / 1000, ms / 1000);
}

describe('UpstreamCredentials', () => {
  it('reads a key from a file, prefixed, and reads it again only after recheckMs when the file changed', () => {
    const file = path.join(dir, 'openai');
    write(file, 'sk-one\n', 1_000_000);
    const creds = new UpstreamCredentials({}, 1000);
    const openai = backend('openai', { file, prefix: 'Bearer ' });
    expect(creds.value(openai, 0)).toBe('Bearer sk-one');
    write(file, 'sk-two', 2_000_000);
    expect(creds.value(openai, 999)).toBe('Bearer sk-one'); // within recheckMs: the cached key
    expect(creds.value(openai, 1000)).toBe('Bearer sk-two'); // rotated
    expect(creds.value(openai, 1500)).toBe('Bearer sk-two');
  });

  it('gives each backend its own prefix when two share one file', () => {
    const file = path.join(dir, 'shared');
    write(file, 'key-7', 1_000_000);
    const creds = new UpstreamCredentials({}, 1000);
    const bearer = backend('a', { file, prefix: 'Bearer ' });
    const bare = backend('b', { file, prefix: '' });
    for (let t = 0; t < 3; t++) {
      expect(creds.value(bearer, t)).toBe('Bearer key-7');
      expect(creds.value(bare, t)).toBe('key-7');
    }
  });

  it('reads a key from an environment variable, trimmed and prefixed', () => {
    const creds = new UpstreamCredentials({ OPENAI_KEY: '  sk-env \n' });
    expect(creds.value(backend('openai', { env: 'OPENAI_KEY', prefix: 'Bearer ' }))).toBe('Bearer sk-env');
  });

  it('is unavailable (never empty, never a key of another line) for a missing, empty or multi-line source', () => {
    const creds = new UpstreamCredentials({ EMPTY: ' ' }, 1000);
    const empty = path.join(dir, 'empty');
    const lines = path.join(dir, 'lines');
    write(empty, '\n', 1_000_000);
    write(lines, 'sk-a\nsk-b', 1_000_000);
    for (const b of [
      backend('missing', { file: path.join(dir, 'nope') }),
      backend('empty', { file: empty }),
      backend('lines', { file: lines }),
      backend('unset', { env: 'UNSET' }),
      backend('blank', { env: 'EMPTY' }),
    ]) {
      expect(() => creds.value(b, 0), b.name).toThrow(CredentialUnavailable);
    }
  });

  it('names the source, never the key, when a key cannot be read', () => {
    const file = path.join(dir, 'two-lines');
    write(file, 'sk-secret-1\nsk-secret-2', 1_000_000);
    try {
      new UpstreamCredentials({}, 1000).value(backend('x', { file }), 0);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain(file);
      expect((e as Error).message).not.toContain('sk-secret');
    }
  });
});
