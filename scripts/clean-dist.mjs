// Removes dist/ before a build so that no output of a deleted source file survives.
import fs from 'node:fs';

fs.rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
