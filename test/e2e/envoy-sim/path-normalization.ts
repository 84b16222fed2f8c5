// :path normalisation as Envoy's ConnectionManagerUtility::maybeNormalizePath does it, in order:
// 1. path_with_escaped_slashes_action: %2F/%2f → "/" and %5C/%5c → "\" in the path (not the
//    query); if any was found: REJECT_REQUEST → 400, UNESCAPE_AND_REDIRECT → a 307 to the final
//    path, UNESCAPE_AND_FORWARD → go on with it.
// 2. normalize_path: RFC 3986 normalisation (Envoy runs Chromium's URL path canonicalizer):
//    "\" is a "/", "." and ".." segments (also spelled %2e) are resolved and ".." never climbs
//    above "/", a %-escape of an unreserved character is decoded (%41 → A), characters that may
//    not appear raw are %-escaped, other escapes are kept as they are. No case normalisation.
// 3. merge_slashes: runs of "/" become one.
// The query string is kept unchanged; a fragment is dropped (Envoy strips it).
import { SimUnsupportedError } from './bootstrap.js';

export type NormalizeAction = 'continue' | 'reject' | 'redirect';

export interface PathPolicy {
  normalizePath: boolean;
  mergeSlashes: boolean;
  escapedSlashes: 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';
}

export function splitPath(path: string): { path: string; query: string } {
  const hash = path.indexOf('#');
  const noFragment = hash < 0 ? path : path.slice(0, hash);
  const q = noFragment.indexOf('?');
  return q < 0 ? { path: noFragment, query: '' } : { path: noFragment.slice(0, q), query: noFragment.slice(q) };
}

export function unescapeSlashes(path: string): { path: string; found: boolean } {
  let found = false;
  const out = path.replace(/%(2f|5c)/gi, (m) => {
    found = true;
    return m.toLowerCase() === '%2f' ? '/' : '\\';
  });
  return { path: out, found };
}

const unreserved = /[A-Za-z0-9\-._~]/;
// Characters Chromium's path canonicalizer escapes when they appear raw.
const mustEscape = new Set([' ', '"', '<', '>', '`', '{', '}', '\x7f']);

function canonicalSegment(seg: string): string | undefined {
  let out = '';
  const bytes = Buffer.from(seg, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const ch = String.fromCharCode(b);
    if (ch === '%') {
      const hex = bytes.subarray(i + 1, i + 3).toString('latin1');
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        const decoded = Number.parseInt(hex, 16);
        if (decoded === 0) return undefined; // an escaped NUL: the canonicalizer fails → 400
        const dch = String.fromCharCode(decoded);
        out += unreserved.test(dch) ? dch : `%${hex}`;
        i += 2;
      } else out += '%';
    } else if (b < 0x20 || b >= 0x80 || mustEscape.has(ch)) {
      out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    } else out += ch;
  }
  return out;
}

const isDot = (s: string) => s === '.';
const isDotDot = (s: string) => s === '..';

/** Chromium-style canonical path; undefined when the canonicalizer fails (Envoy answers 400). */
export function canonicalPath(path: string): string | undefined {
  const body = path.startsWith('/') || path.startsWith('\\') ? path.slice(1) : path;
  const raw = body.split(/[/\\]/);
  const stack: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const seg = canonicalSegment(raw[i]);
    if (seg === undefined) return undefined;
    const last = i === raw.length - 1;
    // "%2e" was decoded above (it is unreserved), so dot segments spelled with escapes count too.
    if (isDot(seg)) {
      if (last) stack.push('');
      continue;
    }
    if (isDotDot(seg)) {
      stack.pop();
      if (last) stack.push('');
      continue;
    }
    stack.push(seg);
  }
  return `/${stack.join('/')}`;
}

export function mergeSlashes(path: string): string {
  return path.replace(/\/{2,}/g, '/');
}

export interface NormalizedPath {
  action: NormalizeAction;
  path: string;
}

export function normalizePath(fullPath: string, policy: PathPolicy): NormalizedPath {
  const { path, query } = splitPath(fullPath);
  let p = path;
  let action: NormalizeAction = 'continue';
  if (policy.escapedSlashes !== 'KEEP_UNCHANGED') {
    const u = unescapeSlashes(p);
    if (u.found) {
      if (policy.escapedSlashes === 'REJECT_REQUEST') return { action: 'reject', path: fullPath };
      if (policy.escapedSlashes === 'UNESCAPE_AND_REDIRECT') action = 'redirect';
      p = u.path;
    }
  }
  if (policy.normalizePath) {
    const c = canonicalPath(p);
    if (c === undefined) return { action: 'reject', path: fullPath };
    p = c;
  }
  if (policy.mergeSlashes) p = mergeSlashes(p);
  return { action, path: p + query };
}

export function escapedSlashesAction(v: number): PathPolicy['escapedSlashes'] {
  // IMPLEMENTATION_SPECIFIC_DEFAULT (0) is KEEP_UNCHANGED in Envoy.
  const names = ['KEEP_UNCHANGED', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'];
  const n = names[v];
  if (!n) throw new SimUnsupportedError('path_with_escaped_slashes_action', String(v));
  return n as PathPolicy['escapedSlashes'];
}
