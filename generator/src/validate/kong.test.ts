import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../test/support/compile-file.js';
import { emitKong } from '../emit/kong/index.js';
import { validateKong } from './kong.js';

const PLUGINS = 'kong/plugins.yaml';
const DECK = 'kong/kong.yaml';
const INGRESS = 'kong/ingress.yaml';

function exampleFiles(): Map<string, string> {
  return emitKong(compileFile('examples/gateway.yaml').model, 'gateway.yaml').files;
}

/** The example's Kong files with one file's text changed. */
function edited(file: string, from: string | RegExp, to: string): Map<string, string> {
  const files = exampleFiles();
  const text = files.get(file)!;
  const next = text.replace(from, to);
  expect(next, `edit of ${file} applies`).not.toBe(text);
  return new Map(files).set(file, next);
}

describe('validateKong', () => {
  it('finds nothing wrong in the Kong output of the example and the golden cases', () => {
    expect(validateKong(exampleFiles())).toEqual([]);
    for (const c of ['minimal', 'body-dispatch', 'failover-split-limits']) {
      const { model } = compileFile(`test/golden/${c}/gateway.yaml`);
      expect(validateKong(emitKong(model, 'gateway.yaml').files), c).toEqual([]);
    }
  });

  it('reports an unknown field in a KongPlugin config', () => {
    const files = edited(PLUGINS, '  key_in_query: false\n', '  key_in_query: false\n  key_in_cookie: true\n');
    expect(validateKong(files)).toEqual([
      { file: PLUGINS, path: 'KongPlugin/ai-gateway-key-auth.config.key_in_cookie', message: 'unknown field' },
    ]);
  });

  it('reports an unknown field in a plugin config of the decK file', () => {
    const files = edited(DECK, '              limit_by: ip\n', '              limit_by: ip\n              burst: 5\n');
    expect(validateKong(files)).toEqual([
      { file: DECK, path: 'services[4].routes[0].plugins[2].config.burst', message: 'unknown field' },
    ]);
  });

  it('reports a wrong type and a value outside an enum', () => {
    const files = edited(PLUGINS, '  limit_by: ip\n  minute: 10\n', '  limit_by: tenant\n  minute: "10"\n');
    expect(validateKong(files)).toEqual([
      {
        file: PLUGINS,
        path: 'KongPlugin/ai-gateway-limit-execute-per-ip.config.limit_by',
        message: 'must be one of consumer, consumer-group, credential, header, ip, path, service',
      },
      { file: PLUGINS, path: 'KongPlugin/ai-gateway-limit-execute-per-ip.config.minute', message: 'must be number' },
    ]);
  });

  it('reports a rate-limiting plugin without a rate, and redis policy without its block', () => {
    const files = edited(
      PLUGINS,
      / {2}minute: 10\n {2}policy: redis\n {2}redis:\n {4}host: \S+\n {4}port: 6379\n {4}password: \S+\n/,
      '  policy: redis\n',
    );
    expect(validateKong(files)).toEqual([
      {
        file: PLUGINS,
        path: 'KongPlugin/ai-gateway-limit-execute-per-ip.config',
        message: 'needs a rate: one of second, minute, hour, day, month, year',
      },
      {
        file: PLUGINS,
        path: 'KongPlugin/ai-gateway-limit-execute-per-ip.config',
        message: 'policy redis needs the redis block',
      },
    ]);
  });

  it('reports a field the CRD does not have', () => {
    const files = edited(PLUGINS, /plugin: acl\n/, 'plugin: acl\nenabled: true\n');
    expect(validateKong(files)).toEqual([
      { file: PLUGINS, path: 'KongPlugin/ai-gateway-execute-acl.enabled', message: 'unknown field' },
    ]);
  });

  it('refuses a secret value where a vault reference belongs', () => {
    const files = edited(PLUGINS, '"{vault://env/aigw-redis-password}"', 'hunter2');
    expect(validateKong(files)[0]).toEqual({
      file: PLUGINS,
      path: 'KongPlugin/ai-gateway-limit-execute-per-ip.config.redis.password',
      message: 'must be a Kong vault reference such as {vault://env/NAME}, never a secret value',
    });
  });

  it('reports a plugin it has no schema for', () => {
    const files = edited(PLUGINS, 'plugin: prometheus\n', 'plugin: datadog\n');
    expect(validateKong(files)).toEqual([
      {
        file: PLUGINS,
        path: 'KongClusterPlugin/ai-gateway-prometheus',
        message: 'no schema for Kong plugin "datadog"',
      },
    ]);
  });

  it('reports a plugin named in konghq.com/plugins that does not exist', () => {
    const files = edited(INGRESS, 'ai-gateway-execute-acl,', 'ai-gateway-execute-acls,');
    expect(validateKong(files)).toEqual([
      {
        file: INGRESS,
        path: 'Ingress/ai-gateway-execute.metadata.annotations.konghq.com/plugins',
        message: 'no KongPlugin or KongClusterPlugin "ai-gateway-execute-acls"',
      },
    ]);
  });

  it('reports an Ingress that Kubernetes would refuse, or that names a missing Service port', () => {
    const bad = edited(INGRESS, 'pathType: Exact', 'pathType: Regex');
    expect(validateKong(bad).map((p) => p.message)).toEqual([
      'data/spec/rules/0/http/paths/0/pathType must be equal to one of the allowed values',
    ]);
    const port = edited(INGRESS, 'number: 8080', 'number: 8081');
    expect(validateKong(port)).toEqual([
      {
        file: INGRESS,
        path: 'Ingress/ai-gateway-execute.spec.rules[0].http.paths[0].backend.service.port',
        message: 'Service "ai-gateway-backend-agents" has no port 8081',
      },
    ]);
  });

  it('reports an anonymous consumer that does not exist', () => {
    const files = edited(DECK, '  - username: ai-gateway-anonymous\n', '');
    expect(validateKong(files).map((p) => p.message)).toContain('no consumer "ai-gateway-anonymous" in this file');
  });

  it('reports a decK field outside the subset we write', () => {
    const files = edited(DECK, '    connect_timeout: 3000\n', '    connect_timeout: 3000\n    retries: 2\n');
    expect(validateKong(files)).toEqual([{ file: DECK, path: 'services[0].retries', message: 'unknown field' }]);
  });

  it('ignores files outside kong/', () => {
    expect(validateKong(new Map([['envoy/envoy.yaml', 'not: [kong']]))).toEqual([]);
  });
});
