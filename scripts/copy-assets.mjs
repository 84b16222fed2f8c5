// Finishes a build so that dist/ runs on its own (e.g. in a container image): copies what tsc does not
// the Envoy descriptor set the strict validator loads.
import fs from 'node:fs';

const assets = ['common/envoy-api/gen/envoy-api.binpb'];
for (const a of assets) {
  const to = new URL(`../dist/${a}`, import.meta.url);
  fs.mkdirSync(new URL('.', to), { recursive: true });
  fs.copyFileSync(new URL(`../${a}`, import.meta.url), to);
}

// tsc writes files without the executable bit; the bins npm links must keep it after a rebuild.
const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const bin of Object.values(pkg.bin)) fs.chmodSync(new URL(`../${bin}`, import.meta.url), 0o755);
