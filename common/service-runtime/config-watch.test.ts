import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ConfigWatcher, type WatchConfigOptions, watchConfig } from './config-watch.js';

type Config = Record<string, unknown>;

/** Reads a YAML file, or merges every *.yaml of a directory; throws on invalid YAML or a non-mapping. */
function loadYaml(p: string): Config {
  const files = fs.statSync(p).isDirectory()
    ? fs
        .readdirSync(p)
        .filter((n) => !n.startsWith('.') && n.endsWith('.yaml'))
        .sort()
        .map((n) => path.join(p, n))
    : [p];
  const out: Config = {};
  for (const f of files) {
    const doc = parse(fs.readFileSync(f, 'utf8')) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${f}: not a mapping`);
    Object.assign(out, doc);
  }
  return out;
}

let dir: string;
const watchers: ConfigWatcher[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-watch-'));
});
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function watch(target: string, extra: Partial<WatchConfigOptions<Config>> = {}) {
  const loads: { value: Config; files: string[] }[] = [];
  const errors: Error[] = [];
  const w = watchConfig<Config>({
    path: target,
    load: loadYaml,
    onLoad: (value, info) => loads.push({ value, files: info.files }),
    onError: (e) => errors.push(e),
    intervalMs: 50,
    ...extra,
  });
  watchers.push(w);
  return { w, loads, errors };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition');
    await sleep(10);
  }
}

/** Replaces a file the way editors and `kubectl cp` do: write aside, rename over. */
function replaceFile(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

describe('watchConfig', () => {
  it('delivers the first load synchronously, before returning', () => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    const { loads, errors } = watch(file);
    expect(loads).toEqual([{ value: { a: 1 }, files: [file] }]);
    expect(errors).toEqual([]);
  });

  it('delivers a first failure synchronously, as onError', () => {
    const { loads, errors } = watch(path.join(dir, 'missing.yaml'));
    expect(loads).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/ENOENT/);
  });

  it('reloads a file after an edit, and never twice for identical content', async () => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    const { loads } = watch(file);
    fs.writeFileSync(file, 'a: 2\n');
    await waitFor(() => loads.length === 2);
    expect(loads[1].value).toEqual({ a: 2 });

    // Rewriting the same bytes (new mtime, new inode) is not a change.
    replaceFile(file, 'a: 2\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    await sleep(300);
    expect(loads).toHaveLength(2);
  });

  it('reports bad content once through onError, keeps quiet, and recovers on the next good edit', async () => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    const { loads, errors } = watch(file);
    replaceFile(file, 'a: [unclosed\n');
    await waitFor(() => errors.length === 1);
    await sleep(300); // several polls over the same bad content
    expect(errors).toHaveLength(1);
    expect(loads).toHaveLength(1);

    replaceFile(file, 'a: 3\n');
    await waitFor(() => loads.length === 2);
    expect(loads[1].value).toEqual({ a: 3 });
    expect(errors).toHaveLength(1);
  });

  it('does not call onLoad when the content goes back to the last loaded one after a failure', async () => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    const { loads, errors } = watch(file);
    replaceFile(file, '- not a mapping\n');
    await waitFor(() => errors.length === 1);
    replaceFile(file, 'a: 1\n');
    await sleep(300);
    expect(loads).toHaveLength(1);
  });

  it('watches a directory of YAML files: added files count, other files do not', async () => {
    const a = path.join(dir, 'a.yaml');
    const b = path.join(dir, 'b.yaml');
    fs.writeFileSync(a, 'a: 1\n');
    const { loads } = watch(dir);
    expect(loads[0]).toEqual({ value: { a: 1 }, files: [a] });

    fs.writeFileSync(b, 'b: 2\n');
    await waitFor(() => loads.length === 2);
    expect(loads[1]).toEqual({ value: { a: 1, b: 2 }, files: [a, b] });

    fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    fs.writeFileSync(path.join(dir, '.hidden.yaml'), 'h: 1\n');
    await sleep(300);
    expect(loads).toHaveLength(2);

    fs.rmSync(b);
    await waitFor(() => loads.length === 3);
    expect(loads[2]).toEqual({ value: { a: 1 }, files: [a] });
  });

  describe('Kubernetes ConfigMap mounts (..data symlink swap)', () => {
    function mount(content: string): void {
      fs.mkdirSync(path.join(dir, '..2026_01_01'));
      fs.writeFileSync(path.join(dir, '..2026_01_01', 'config.yaml'), content);
      fs.symlinkSync('..2026_01_01', path.join(dir, '..data'));
      fs.symlinkSync(path.join('..data', 'config.yaml'), path.join(dir, 'config.yaml'));
    }

    function swap(version: string, content: string): void {
      fs.mkdirSync(path.join(dir, version));
      fs.writeFileSync(path.join(dir, version, 'config.yaml'), content);
      fs.symlinkSync(version, path.join(dir, '..data_tmp'));
      fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      fs.rmSync(path.join(dir, '..2026_01_01'), { recursive: true });
    }

    it('reloads the mount directory when ..data is swapped', async () => {
      mount('limit: 10\n');
      const { loads, errors } = watch(dir);
      expect(loads).toEqual([{ value: { limit: 10 }, files: [path.join(dir, 'config.yaml')] }]);
      swap('..2026_01_02', 'limit: 20\n');
      await waitFor(() => loads.length === 2);
      expect(loads[1].value).toEqual({ limit: 20 });
      expect(errors).toEqual([]);
    });

    it('catches the swap by polling alone (fs.watch off)', async () => {
      mount('limit: 10\n');
      const { loads } = watch(dir, { fsWatch: false, intervalMs: 30 });
      swap('..2026_01_02', 'limit: 40\n');
      await waitFor(() => loads.length === 2);
      expect(loads[1].value).toEqual({ limit: 40 });
    });

    it('reloads a single symlinked file of the mount when ..data is swapped', async () => {
      mount('limit: 10\n');
      const { loads } = watch(path.join(dir, 'config.yaml'));
      swap('..2026_01_02', 'limit: 30\n');
      await waitFor(() => loads.length === 2);
      expect(loads[1].value).toEqual({ limit: 30 });
    });

    it('does not reload when the swapped-in version has identical content', async () => {
      mount('limit: 10\n');
      const { loads } = watch(dir);
      swap('..2026_01_02', 'limit: 10\n');
      await sleep(300);
      expect(loads).toHaveLength(1);
    });
  });

  it('notices changes by polling alone (fs.watch off)', async () => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    const { loads } = watch(file, { fsWatch: false, intervalMs: 30 });
    fs.writeFileSync(file, 'a: 2\n');
    await waitFor(() => loads.length === 2);
    expect(loads[1].value).toEqual({ a: 2 });
  });

  it('reacts through fs.watch well before the poll interval', async () => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    const { loads } = watch(file, { intervalMs: 60_000, debounceMs: 20 });
    replaceFile(file, 'a: 2\n');
    await waitFor(() => loads.length === 2, 3000);
    expect(loads[1].value).toEqual({ a: 2 });
  });

  it('does not re-read the config for writes to other files of its directory', async () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    let reads = 0;
    const { loads } = watch(file, {
      intervalMs: 60_000,
      debounceMs: 5,
      load: (p) => {
        reads++;
        return loadYaml(p);
      },
    });
    // load() runs only when the fingerprint changes: what a needless check costs is the
    // fingerprint's read of the file, counted here.
    const original = fs.readFileSync;
    let fingerprints = 0;
    fs.readFileSync = ((...args: Parameters<typeof fs.readFileSync>) => {
      if (String(args[0]) === file) fingerprints++;
      return original(...args);
    }) as typeof fs.readFileSync;
    try {
      for (let i = 0; i < 10; i++) {
        fs.appendFileSync(path.join(dir, 'h2load.log'), `line ${i}\n`);
        await sleep(20);
      }
      await sleep(100);
      expect(fingerprints).toBe(0);
      replaceFile(file, 'a: 2\n');
      await waitFor(() => loads.length === 2, 3000);
      expect(fingerprints).toBeGreaterThan(0);
    } finally {
      fs.readFileSync = original;
    }
    expect(reads).toBe(2);
  });

  it('reload() retries a failed load even when the files did not change', () => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    let backendUp = false;
    const { w, loads, errors } = watch(file, {
      intervalMs: 60_000,
      load: (p) => {
        if (!backendUp) throw new Error('backend down');
        return loadYaml(p);
      },
    });
    expect(errors.map((e) => e.message)).toEqual(['backend down']);
    backendUp = true;
    w.reload();
    expect(loads.map((l) => l.value)).toEqual([{ a: 1 }]);
    w.reload(); // unchanged and loaded: nothing
    expect(loads).toHaveLength(1);
  });

  it('turns a throw from onLoad into onError instead of crashing', async () => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    const errors: Error[] = [];
    const w = watchConfig<Config>({
      path: file,
      load: loadYaml,
      onLoad: (value) => {
        if (value.a === 2) throw new Error('rejected by caller');
      },
      onError: (e) => errors.push(e),
      intervalMs: 30,
    });
    watchers.push(w);
    replaceFile(file, 'a: 2\n');
    await waitFor(() => errors.length === 1);
    expect(errors[0].message).toBe('rejected by caller');
  });

  it('makes no callback after close()', async () => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    const { w, loads, errors } = watch(file, { intervalMs: 20 });
    w.close();
    replaceFile(file, 'a: 2\n');
    await sleep(200);
    w.reload();
    expect(loads).toHaveLength(1);
    expect(errors).toHaveLength(0);
  });
});
