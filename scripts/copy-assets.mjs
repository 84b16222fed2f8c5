// Copies what tsc does not into dist/, so that dist/ runs on its own (e.g. in a container image):
// the Envoy descriptor set the strict validator loads.
import fs from 'node:fs';

const assets = ['common/envoy-api/gen/envoy-api.binpb'];
for (const a of assets) {
  const to = new URL(`../dist/${a}`, import.meta.url);
  fs.mkdirSync(new URL('.', to), { recursive: true });
  fs.copyFileSync(new URL(`../${a}`, import.meta.url), to);
}
