// Watches a configuration file, or a directory of YAML files, and reloads it on change.
//
// Kubernetes ConfigMap volumes replace their content by atomically swapping the `..data` symlink
// (files are `config.yaml -> ..data/config.yaml`), which neither changes the watched file's inode
// nor reliably produces an fs.watch event for it. So the source of truth is a fingerprint of the
// contents (read through the symlinks), polled every intervalMs; fs.watch on the directory only
// makes the check happen sooner, and only for entries that can change the config (the file itself,
// the directory's config files, or the mount's `..`-entries): a busy neighbour in the same
// directory (a log file, say) must not make every process re-read and re-hash its config.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface WatchConfigOptions<T> {
  /** A file, or a directory whose matching files (not recursive, hidden entries skipped) make up the config. */
  path: string;
  /** Reads and validates the configuration; throws on bad content. Called with `path` as given. */
  load: (path: string) => T;
  /** A new value, never twice in a row for identical content. `files` are the files fingerprinted. */
  onLoad: (value: T, info: { files: string[] }) => void;
  /** A load failure (or a throw from onLoad). The caller keeps its last good value. */
  onError: (error: Error) => void;
  /** Polling period; default 1000 ms. */
  intervalMs?: number;
  /** Delay collapsing a burst of fs.watch events into one check; default 50 ms. */
  debounceMs?: number;
  /** File name endings that belong to a directory config; default ['.yaml', '.yml']. */
  extensions?: string[];
  /** Use fs.watch in addition to polling; default true. */
  fsWatch?: boolean;
}

export interface ConfigWatcher {
  /** Checks now: loads if the content changed since the last attempt, or retries after a failure. */
  reload(): void;
  /** Stops polling and watching. No callback is made afterwards. */
  close(): void;
}

interface Snapshot {
  fingerprint: string;
  files: string[];
}

/**
 * Loads once synchronously (onLoad or onError is called before this returns), then watches.
 */
export function watchConfig<T>(opts: WatchConfigOptions<T>): ConfigWatcher {
  const intervalMs = opts.intervalMs ?? 1000;
  const debounceMs = opts.debounceMs ?? 50;
  const extensions = opts.extensions ?? ['.yaml', '.yml'];
  let closed = false;
  let checking = false;
  let pending = false;
  let lastAttempted: string | undefined; // fingerprint of the last load attempt
  let lastAttemptFailed = false;
  let lastLoaded: string | undefined; // fingerprint of the last value handed to onLoad
  let watcher: fs.FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;

  const reportError = (e: unknown) => {
    try {
      opts.onError(e instanceof Error ? e : new Error(String(e)));
    } catch {
      // The watcher runs from timers: a throwing callback must not crash the process.
    }
  };

  const check = (force: boolean) => {
    if (closed) return;
    if (checking) {
      // Re-entered from a callback: run once more when the current check is done.
      pending = true;
      return;
    }
    checking = true;
    try {
      do {
        pending = false;
        checkOnce(force);
        force = false;
      } while (pending && !closed);
    } finally {
      checking = false;
    }
  };

  const checkOnce = (force: boolean) => {
    let snap = snapshot(opts.path, extensions);
    if (snap.fingerprint === lastAttempted && !(force && lastAttemptFailed)) return;
    let value: T;
    for (let attempt = 1; ; attempt++) {
      lastAttempted = snap.fingerprint;
      try {
        value = opts.load(opts.path);
      } catch (e) {
        lastAttemptFailed = true;
        reportError(e);
        return;
      }
      // The files may have changed while load() read them: then load again, so that the value
      // handed to onLoad matches the fingerprint it is recorded under.
      const after = snapshot(opts.path, extensions);
      if (after.fingerprint === snap.fingerprint || attempt >= 3) break;
      snap = after;
    }
    if (snap.fingerprint === lastLoaded) {
      lastAttemptFailed = false;
      return; // back to the content the caller already has
    }
    try {
      opts.onLoad(value, { files: snap.files });
      lastLoaded = snap.fingerprint;
      lastAttemptFailed = false;
    } catch (e) {
      lastAttemptFailed = true;
      reportError(e);
    }
  };

  const startFsWatch = () => {
    if (opts.fsWatch === false || watcher || closed) return;
    let dir = opts.path;
    try {
      if (!fs.statSync(opts.path).isDirectory()) dir = path.dirname(opts.path);
    } catch {
      dir = path.dirname(opts.path);
    }
    const file = dir === opts.path ? undefined : path.basename(opts.path);
    const matters = (name: string | null): boolean => {
      if (name === null || name.startsWith('..')) return true; // unknown, or a ConfigMap swap
      if (file !== undefined) return name === file;
      return !name.startsWith('.') && extensions.some((ext) => name.endsWith(ext));
    };
    try {
      watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (closed || !matters(name)) return;
        clearTimeout(debounce);
        debounce = setTimeout(() => check(false), debounceMs);
        debounce.unref();
      });
      watcher.on('error', () => {
        // e.g. the directory was removed: fall back to polling, which re-creates the watch.
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined; // ENOENT, ENOSPC (inotify limits), ...: polling still works
    }
  };

  check(false);
  startFsWatch();
  const timer = setInterval(() => {
    startFsWatch();
    check(false);
  }, intervalMs);
  timer.unref();

  return {
    reload: () => check(true),
    close: () => {
      closed = true;
      clearInterval(timer);
      clearTimeout(debounce);
      watcher?.close();
      watcher = undefined;
    },
  };
}

/** sha256 over every config file's logical name and content (read through symlinks). Never throws. */
function snapshot(target: string, extensions: string[]): Snapshot {
  const hash = createHash('sha256');
  const files: string[] = [];
  try {
    const stat = fs.statSync(target);
    if (stat.isDirectory()) {
      const names = fs
        .readdirSync(target)
        .filter((name) => !name.startsWith('.') && extensions.some((ext) => name.endsWith(ext)))
        .sort();
      for (const name of names) {
        const file = path.join(target, name);
        let content: Buffer;
        try {
          if (!fs.statSync(file).isFile()) continue;
          content = fs.readFileSync(file);
        } catch (e) {
          hash.update(`error\0${name}\0${errorKey(e)}\0`);
          continue;
        }
        files.push(file);
        hash.update(`file\0${name}\0${content.length}\0`);
        hash.update(content);
      }
    } else {
      const content = fs.readFileSync(target);
      files.push(target);
      hash.update(`file\0\0${content.length}\0`);
      hash.update(content);
    }
  } catch (e) {
    hash.update(`error\0\0${errorKey(e)}\0`);
  }
  return { fingerprint: hash.digest('hex'), files };
}

function errorKey(e: unknown): string {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}
