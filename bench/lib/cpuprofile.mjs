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

/**
 * Reads one or more .cpuprofile files and returns { busyMs, idleMs, functions, categories }:
 * functions and categories are arrays of { name, selfMs, share } (share of busy time), sorted
 * by selfMs descending.
 */
export function summariseCpuProfiles(files) {
  const byFunction = new Map();
  const byCategory = new Map();
  let busyMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
    const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
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
      if (cat === '(idle)') {
        idleMs += ms;
        continue;
      }
      busyMs += ms;
      const key = url ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}` : functionName;
      byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
      byCategory.set(cat, (byCategory.get(cat) ?? 0) + ms);
    }
  }
  const sorted = (m) =>
    [...m.entries()]
      .map(([name, selfMs]) => ({ name, selfMs, share: busyMs ? selfMs / busyMs : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs);
  return { busyMs, idleMs, functions: sorted(byFunction), categories: sorted(byCategory) };
}

/** The .cpuprofile files of a folder. */
export function cpuProfilesIn(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
}
