// Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time per function and per
// "package" (node_modules package, Node internals module, or our own source folder), the
// (idle) time left out of the busy total.
import fs from 'node:fs';
import path from 'node:path';

/** Where a frame's code lives, coarsely: '@grpc/grpc-js', 'node:http2', 'ratelimit-service/src', 'GC', ... */
export function frameCategory(url, functionName) {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return '(program: native/V8)';
    if (functionName === '(idle)') return '(idle)';
    return functionName || '(native)';
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([^/]+)/.exec(url);
    return `node:${m ? m[1].replace(/\.js$/, '') : url.slice(5)}`;
  }
  const d = url.indexOf('/dist/');
  if (d >= 0) {
    const rel = url.slice(d + '/dist/'.length).split('/');
    if (rel[0] === 'common' && rel[1] === 'envoy-api') return 'common/envoy-api (generated)';
    return rel.slice(0, 2).join('/');
  }
  return path.basename(url);
}

function shortUrl(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const d = url.indexOf('/dist/');
  if (d >= 0) return url.slice(d + 1);
  return url.replace(/^file:\/\//, '');
}

/** A gap between two samples longer than this is counted as idle (the process was not running). */
const NOT_RUNNING_MS = 50;

/**
 * Reads one or more .cpuprofile files and returns { busyMs, idleMs, functions, categories,
 * callerCategories }: arrays of { name, selfMs, share } (share of busy time), sorted by selfMs
 * descending. callerCategories charges native frames (e.g. writeUtf8String) and Node's own JS to
 * the nearest calling package (npm package or our code), when there is one.
 */
export function summariseCpuProfiles(files) {
  const byFunction = new Map();
  const byCategory = new Map();
  const byCaller = new Map(); // categories, native and node:* frames folded into their nearest library caller
  let busyMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
    const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
    // Category of the nearest ancestor with source (a native such as writeUtf8String is charged to
    // whoever called it); GC, (program) and (idle) stay as they are.
    // Category of the nearest ancestor that is neither native nor Node's own JS (node:*): a
    // writeUtf8String under net's Socket.write under ioredis is charged to ioredis. GC, (program)
    // and (idle) stay as they are; frames with no such ancestor keep their own category.
    const isLibrary = (cat) => !cat.startsWith('node:') && !cat.startsWith('(') && cat !== 'GC';
    const callerCategory = (n) => {
      const own = frameCategory(n.callFrame.url, n.callFrame.functionName);
      if (isLibrary(own) && n.callFrame.url) return own;
      if (['GC', '(program: native/V8)', '(idle)'].includes(own)) return own;
      for (let p = parent.get(n.id); p; p = parent.get(p.id)) {
        const cat = frameCategory(p.callFrame.url, p.callFrame.functionName);
        if (p.callFrame.url && isLibrary(cat)) return `${cat} (via Node/native)`;
      }
      return own;
    };
    const { samples, timeDeltas } = prof;
    // Sample i lasts until sample i+1 (DevTools' convention); the last one gets the mean interval.
    const total = prof.endTime - prof.startTime;
    const mean = samples.length ? total / samples.length : 0;
    for (let i = 0; i < samples.length; i++) {
      const dtUs = i + 1 < samples.length ? timeDeltas[i + 1] : mean;
      const n = nodes.get(samples[i]);
      const { functionName, url, lineNumber } = n.callFrame;
      const ms = Math.max(0, dtUs) / 1000;
      const cat = frameCategory(url, functionName);
      // The profiler samples every ~1 ms while the process runs, GC included: a longer gap is
      // time the process did not run at all (a bench stops idle targets with SIGSTOP), not the
      // sampled function's.
      if (ms > NOT_RUNNING_MS) {
        idleMs += ms;
        continue;
      }
      if (cat === '(idle)') {
        idleMs += ms;
        continue;
      }
      busyMs += ms;
      const key = url ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}` : functionName;
      byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
      byCategory.set(cat, (byCategory.get(cat) ?? 0) + ms);
      const caller = callerCategory(n);
      byCaller.set(caller, (byCaller.get(caller) ?? 0) + ms);
    }
  }
  const sorted = (m) =>
    [...m.entries()]
      .map(([name, selfMs]) => ({ name, selfMs, share: busyMs ? selfMs / busyMs : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs);
  return {
    busyMs,
    idleMs,
    functions: sorted(byFunction),
    categories: sorted(byCategory),
    callerCategories: sorted(byCaller),
  };
}

/** The .cpuprofile files of a folder. */
export function cpuProfilesIn(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
}
