// Test helpers around the in-memory pipeline.
import fs from 'node:fs';
import path from 'node:path';
import { type CompileResult, compileGateway } from '../../generator/src/compile.js';
import { loadGatewaySource } from '../../generator/src/config/source.js';
import { formatDiagnostic, GatewayError } from '../../generator/src/errors.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const updateGolden = process.env.UPDATE_GOLDEN === '1';

/** Compiles a gateway file given relative to the repo root (so messages name it that way). */
export function compileFile(rel: string): CompileResult {
  const cwd = process.cwd();
  process.chdir(repoRoot);
  try {
    return compileGateway(loadGatewaySource(rel));
  } finally {
    process.chdir(cwd);
  }
}

/** The messages `gen` prints for a gateway file, or [] when it compiles. */
export function compileMessages(rel: string): string[] {
  try {
    compileFile(rel);
    return [];
  } catch (e) {
    if (e instanceof GatewayError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
}

/** Every file below dir, relative to it, sorted. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

/**
 * Compares generated files with the reviewed copies in `dir`; with UPDATE_GOLDEN=1 rewrites
 * them instead (then review the diff before committing).
 */
export function expectMatchesGolden(
  files: Map<string, string>,
  dir: string,
): { missing: string[]; stale: string[]; extra: string[] } {
  if (updateGolden) {
    fs.rmSync(dir, { recursive: true, force: true });
    for (const [rel, content] of files) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
  }
  const onDisk = listFiles(dir);
  return {
    missing: [...files.keys()].filter((f) => !onDisk.includes(f)),
    stale: [...files.keys()].filter(
      (f) => onDisk.includes(f) && fs.readFileSync(path.join(dir, f), 'utf8') !== files.get(f),
    ),
    extra: onDisk.filter((f) => !files.has(f)),
  };
}
