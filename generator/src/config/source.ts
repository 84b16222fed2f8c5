// Reads gateway.yaml so that any later check can point at the line and column of the field it
// complains about.
//
// Two parsers, one result. `yaml` keeps every node's position and gives the exact YAML error
// messages, but reads about 1 MB/s; js-yaml reads the same plain documents ten times faster and
// keeps no positions. So a file is read with js-yaml when it only uses what both read the same way
// (YAML 1.2 core schema; no anchors, aliases, tags or number forms that only js-yaml knows) and
// with `yaml` otherwise or when js-yaml finds a problem; the positions are read with `yaml` only
// when a check needs one (that is, when there is something to report).
import fs from 'node:fs';
import jsYaml from 'js-yaml';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { type Diagnostic, GatewayError } from '../errors.js';

export type PathSegment = string | number;

export interface GatewaySource {
  file: string;
  /** The document with positions (read on first use when the fast parser read the value). */
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  /** The plain JavaScript value of the document. */
  value: unknown;
}

function parseWithPositions(text: string, file: string): { doc: Document; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  const problems: Diagnostic[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, message: e.message.split('\n')[0] };
  });
  if (problems.length) throw new GatewayError(problems);
  return { doc, lineCounter };
}

/**
 * Text the two parsers could read differently: an anchor, alias or tag (a `&`, `*` or `!` that
 * starts a node), a number with `_` or in binary (js-yaml only), a directive or a second document.
 * Conservative: a match only means the slower parser reads the file.
 */
const notForFastParser = /(?:^|[\s[\]{},])[&*!][^\s,[\]{}]|\d_\d|\b0b[01]|^%|^---[ \t]*\S|\n(?:---|\.\.\.)(?:\s|$)/m;

/** The value as js-yaml reads it, or undefined when the file is not for it (see above). */
function fastValue(text: string): { value: unknown } | undefined {
  if (notForFastParser.test(text)) return undefined;
  try {
    return { value: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) ?? null };
  } catch {
    return undefined; // `yaml` reports it, with its own message
  }
}

export function parseGatewaySource(text: string, file: string): GatewaySource {
  const fast = fastValue(text);
  if (!fast) {
    const { doc, lineCounter } = parseWithPositions(text, file);
    return { file, doc, lineCounter, value: doc.toJS({ maxAliasCount: 100 }) };
  }
  let positions: { doc: Document; lineCounter: LineCounter } | undefined;
  const withPositions = () => {
    positions ??= parseWithPositions(text, file);
    return positions;
  };
  return {
    file,
    get doc() {
      return withPositions().doc;
    },
    get lineCounter() {
      return withPositions().lineCounter;
    },
    value: fast.value,
  };
}

export function loadGatewaySource(file: string): GatewaySource {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new GatewayError([{ file, message: `cannot read file: ${(e as NodeJS.ErrnoException).code ?? e}` }]);
  }
  return parseGatewaySource(text, file);
}

/**
 * The position of the node at `path`. With `key`, the position of the map key that holds it
 * (better for "unknown field" and "duplicate name" messages). Falls back to the nearest
 * ancestor that exists, so a missing field points at the object that misses it.
 */
export function locate(
  src: GatewaySource,
  path: readonly PathSegment[],
  key = false,
): { line: number; column: number } {
  let node: unknown = src.doc.contents;
  let best: Node | undefined = node as Node;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      if (last && key && pair.key) {
        best = pair.key as Node;
        break;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else break;
    if (node && typeof node === 'object' && 'range' in (node as object)) best = node as Node;
  }
  const offset = best?.range?.[0] ?? 0;
  const pos = src.lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

export function diagnosticAt(
  src: GatewaySource,
  path: readonly PathSegment[],
  message: string,
  key = false,
): Diagnostic {
  return { file: src.file, ...locate(src, path, key), message };
}

/** `routes[2].match.path` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}
