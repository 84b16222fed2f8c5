// gen diff: what a change to gateway.yaml changes in each output.
//   gen diff OLD.yaml NEW.yaml        compile both and compare
//   gen diff NEW.yaml --out DIR       compare with what is in DIR now (the last gen build)
// Exit code like diff(1): 0 no change, 1 changes, 2 trouble.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createTwoFilesPatch } from 'diff';
import { compileGateway } from '../compile.js';
import { loadGatewaySource } from '../config/source.js';

export const diffUsage = 'gen diff OLD.yaml NEW.yaml | gen diff NEW.yaml --out DIR  [--stat]';

function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!fs.existsSync(dir)) return files;
  for (const f of (fs.readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) files.set(f.split(path.sep).join('/'), fs.readFileSync(p, 'utf8'));
  }
  return files;
}

export function diffOutputs(
  before: Map<string, string>,
  after: Map<string, string>,
  stat: boolean,
): { lines: string[]; changed: number } {
  const lines: string[] = [];
  let changed = 0;
  for (const f of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const a = before.get(f);
    const b = after.get(f);
    if (a === b) continue;
    changed++;
    const patch = createTwoFilesPatch(`a/${f}`, `b/${f}`, a ?? '', b ?? '', undefined, undefined, { context: 2 });
    const plus = patch.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++')).length;
    const minus = patch.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---')).length;
    const what = a === undefined ? 'new' : b === undefined ? 'removed' : 'changed';
    lines.push(`${f}: ${what}, +${plus} -${minus}`);
    if (!stat)
      lines.push(
        ...patch
          .split('\n')
          .slice(2)
          .filter((l) => l !== '\\ No newline at end of file'),
      );
  }
  return { lines, changed };
}

export function diffCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: 'string' }, stat: { type: 'boolean' } },
    allowPositionals: true,
  });
  let before: Map<string, string>;
  let after: Map<string, string>;
  if (positionals.length === 2 && !values.out) {
    before = compileGateway(loadGatewaySource(positionals[0])).files;
    after = compileGateway(loadGatewaySource(positionals[1])).files;
  } else if (positionals.length === 1 && values.out) {
    before = readTree(values.out);
    if (before.size === 0) {
      out(`gen diff: ${values.out} holds no previous build`);
      return 2;
    }
    after = compileGateway(loadGatewaySource(positionals[0])).files;
    // Only compare what gen writes; other files in DIR are not ours.
    for (const f of [...before.keys()])
      if (!after.has(f) && !/^(envoy|ratelimit|ext-authz|manifests|kong)\//.test(f)) before.delete(f);
  } else {
    out(`usage: ${diffUsage}`);
    return 2;
  }
  const { lines, changed } = diffOutputs(before, after, values.stat ?? false);
  for (const l of lines) out(l);
  out(changed ? `gen diff: ${changed} output file(s) change` : 'gen diff: no output changes');
  return changed ? 1 : 0;
}
