// All or nothing: the outputs are written into a fresh folder beside the target, then swapped in
// with renames. A failure before the swap leaves the previous output untouched.
import fs from 'node:fs';
import path from 'node:path';

export function writeOutputsAtomically(outDir: string, files: Map<string, string>): void {
  const target = path.resolve(outDir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.new-`));
  const previous = `${staging.replace('.new-', '.old-')}`;
  try {
    for (const [rel, content] of files) {
      const file = path.join(staging, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
    const hadTarget = fs.existsSync(target);
    if (hadTarget) fs.renameSync(target, previous);
    try {
      fs.renameSync(staging, target);
    } catch (e) {
      if (hadTarget) fs.renameSync(previous, target);
      throw e;
    }
    if (hadTarget) fs.rmSync(previous, { recursive: true, force: true });
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
