// A snapshot of the build for a bench run: dist/ copied into a temporary folder with package.json
// and a node_modules link beside it, so that an `npm run build` elsewhere cannot swap files under a
// run. Returns the snapshot's folder (run `<folder>/dist/...` from there).
import fs from 'node:fs';
import path from 'node:path';

export function snapshotBuild(root, tmp) {
  const app = path.join(tmp, 'app');
  fs.cpSync(path.join(root, 'dist'), path.join(app, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(app, 'package.json'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(app, 'node_modules'), 'dir');
  return app;
}
