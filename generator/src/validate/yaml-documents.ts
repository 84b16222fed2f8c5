// Parses a generated multi-document YAML file once, however many validators read it: every
// validator checks the file as written, and the same text is not parsed three times.
import { parseAllDocuments } from 'yaml';

export interface ParsedDocument {
  index: number;
  /** First parse error of this document, if any. */
  error?: string;
  value: unknown;
}

const cache = new Map<string, ParsedDocument[]>();
/** Texts our writer produced, with the values they came from, read back when a validator asks. */
const primed = new Map<string, unknown[]>();

/**
 * Records what a text written by our YAML writer reads back as, so validators need not parse it:
 * the writer's output reads back exactly as its input with undefined fields dropped and undefined
 * list items as null (see yaml-writer.test.ts): readBack() gives that, sharing the strings.
 */
export function primeYamlDocuments(text: string, values: unknown[]): void {
  // Most written files are never read by a validator (envoy.yaml is validated as an object before
  // it is written): the copy is made on the first read, not here.
  if (primed.size > 64) primed.clear();
  primed.set(text, values);
}

/** What our YAML writer's text for `v` reads back as (a copy: validators cannot change the input). */
export function readBack(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(readBack);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue;
    // A key named __proto__ stays a key, as when YAML reads it.
    if (k === '__proto__') Object.defineProperty(out, k, { value: readBack(x), enumerable: true, writable: true });
    else out[k] = readBack(x);
  }
  return out;
}

export function yamlDocuments(text: string): ParsedDocument[] {
  let docs = cache.get(text);
  if (!docs) {
    const values = primed.get(text);
    primed.delete(text); // read back once; the emitter's objects are not kept alive for it
    docs = values ? values.map((v, index) => ({ index, value: readBack(v) })) : parsedDocuments(text);
    if (cache.size > 64) cache.clear();
    cache.set(text, docs);
  }
  return docs;
}

function parsedDocuments(text: string): ParsedDocument[] {
  const parsed = parseAllDocuments(text);
  return (Array.isArray(parsed) ? parsed : [parsed]).map((d, index) =>
    d.errors.length
      ? { index, error: d.errors[0].message.split('\n')[0], value: undefined }
      : { index, value: d.toJS() as unknown },
  );
}
