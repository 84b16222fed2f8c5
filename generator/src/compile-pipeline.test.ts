import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileGateway } from './compile.js';
import { compileGatewayLoadingTargets, compileModel, gatewayModel } from './compile-pipeline.js';
import { loadGatewaySource, parseGatewaySource } from './config/source.js';
import { yamlDocuments } from './validate/yaml-documents.js';

const example = path.resolve(import.meta.dirname, '../../examples/gateway.yaml');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aigw-compile-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The example with an `outputs:` field, as its own file. */
function exampleWithOutputs(outputs: string[]): string {
  const file = path.join(tmp, `gateway-${outputs.join('-') || 'none'}.yaml`);
  fs.writeFileSync(file, `outputs: [${outputs.join(', ')}]\n${fs.readFileSync(example, 'utf8')}`);
  return file;
}

describe('compile pipeline', () => {
  it('gives the same bytes whether every target is loaded up front or only the asked ones on demand', async () => {
    for (const file of [example, exampleWithOutputs([]), exampleWithOutputs(['kong'])]) {
      const eager = compileGateway(loadGatewaySource(file));
      const lazy = await compileGatewayLoadingTargets(loadGatewaySource(file));
      expect([...lazy.files.keys()]).toEqual([...eager.files.keys()]);
      for (const [name, text] of eager.files) expect(lazy.files.get(name), name).toBe(text);
      expect(lazy.warnings).toEqual(eager.warnings);
    }
    const none = await compileGatewayLoadingTargets(loadGatewaySource(exampleWithOutputs([])));
    expect([...none.files.keys()]).toEqual(['envoy/envoy.yaml', 'ext-authz/policy.yaml', 'ratelimit/config.yaml']);
  });

  it('refuses to compile an output whose target was not loaded, instead of leaving it out', () => {
    const src = loadGatewaySource(exampleWithOutputs(['kong']));
    expect(() => compileModel(src, gatewayModel(src), {})).toThrow('internal: the kong target is not loaded');
  });

  it('hands the validators exactly what each written file reads back as', () => {
    // The validators read a generated file through yamlDocuments(), which copies the emitter's
    // objects on first read instead of parsing the text: an emitter changing an object after
    // writing it would make them check something else than the file.
    const golden = path.resolve(import.meta.dirname, '../../test/golden');
    const sources = [example, ...fs.readdirSync(golden).map((c) => path.join(golden, c, 'gateway.yaml'))].filter((f) =>
      fs.existsSync(f),
    );
    expect(sources.length).toBeGreaterThan(2);
    for (const source of sources) {
      // Each gateway's files right after its compile, while they are still the primed ones.
      for (const [name, text] of compileGateway(loadGatewaySource(source)).files) {
        if (!name.endsWith('.yaml')) continue;
        const parsed = parseAllDocuments(text);
        const docs = Array.isArray(parsed) ? parsed : [parsed];
        expect(
          yamlDocuments(text).map((d) => d.value),
          `${source}: ${name}`,
        ).toEqual(docs.map((d) => d.toJS()));
      }
    }
  });

  it('reports gateway errors before loading any target', async () => {
    const src = parseGatewaySource('version: 1\noutputs: [kong]\nroutes: 3\n', 'bad.yaml');
    await expect(compileGatewayLoadingTargets(src)).rejects.toThrow(/bad\.yaml/);
  });
});
