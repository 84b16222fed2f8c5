// Edits gateway.yaml in place through the yaml Document API, so comments, key order and layout
// of everything else stay as the user wrote them. The edited text is compiled before it is
// written: an edit that would make the file invalid writes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { type Document, isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { compileGateway } from '../compile.js';
import { parseGatewaySource } from '../config/source.js';
import { GatewayError } from '../errors.js';

import { EditError } from './edit-gateway-error.js';

export { EditError };

export function editGatewayFile(file: string, edit: (doc: Document) => void): void {
  const text = fs.readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length) throw new EditError(`${file}: ${doc.errors[0].message.split('\n')[0]}`);
  edit(doc);
  const next = doc.toString({ lineWidth: 0 });
  compileGateway(parseGatewaySource(next, file)); // throws GatewayError with positions in the edited text
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, next);
  fs.renameSync(tmp, file);
}

export function routeNode(doc: Document, name: string): YAMLMap {
  const routes = doc.get('routes', true);
  if (!isSeq(routes)) throw new EditError('the file has no routes list');
  const found = routes.items.find((r) => isMap(r) && r.get('name') === name);
  if (!found || !isMap(found)) throw new EditError(`no route named "${name}"`);
  return found;
}

export { GatewayError };
