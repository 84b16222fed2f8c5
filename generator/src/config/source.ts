// Reads gateway.yaml keeping every node's position, so that any later check can point at the
// line and column of the field it complains about.
import fs from 'node:fs';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { type Diagnostic, GatewayError } from '../errors.js';

export type PathSegment = string | number;

export interface GatewaySource {
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  /** The plain JavaScript value of the document. */
  value: unknown;
}

export function parseGatewaySource(text: string, file: string): GatewaySource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  const problems: Diagnostic[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, message: e.message.split('\n')[0] };
  });
  if (problems.length) throw new GatewayError(problems);
  return { file, doc, lineCounter, value: doc.toJS({ maxAliasCount: 100 }) };
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
