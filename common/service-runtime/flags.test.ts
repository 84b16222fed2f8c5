import { describe, expect, it } from 'vitest';
import { FlagError, type FlagsSpec, parseFlags, usageText } from './flags.js';

interface Opts {
  grpcPort: number;
  host: string;
  workers: number;
  dryRun: boolean;
  config: string | undefined;
}

const spec: FlagsSpec<Opts> = {
  grpcPort: { flag: 'grpc-port', env: 'GRPC_PORT', type: 'int', default: 8081, help: 'gRPC listen port' },
  host: { flag: '--host', env: 'HOST', type: 'string', default: '0.0.0.0', help: 'Listen address' },
  workers: { flag: 'workers', type: 'int', default: '4', help: 'Worker count' },
  dryRun: { flag: 'dry-run', env: 'DRY_RUN', type: 'bool', default: false, help: 'Do nothing' },
  config: { flag: 'config', env: 'CONFIG', type: 'string', help: 'Config path' },
};

function errorOf(fn: () => unknown): FlagError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FlagError) return e;
    throw e;
  }
  throw new Error('expected a FlagError');
}

describe('parseFlags', () => {
  it('uses the defaults when nothing is given (string defaults are parsed)', () => {
    expect(parseFlags<Opts>([], spec, {})).toEqual({
      grpcPort: 8081,
      host: '0.0.0.0',
      workers: 4,
      dryRun: false,
      config: undefined,
    });
  });

  it('lets env override defaults and flags override env', () => {
    const env = { GRPC_PORT: '9000', HOST: '127.0.0.1', DRY_RUN: 'yes', CONFIG: '/etc/a.yaml' };
    expect(parseFlags<Opts>([], spec, env)).toMatchObject({
      grpcPort: 9000,
      host: '127.0.0.1',
      dryRun: true,
      config: '/etc/a.yaml',
    });
    const flags = parseFlags<Opts>(
      ['--grpc-port', '9100', '--host=::1', '--dry-run=false', '--config', 'b.yaml'],
      spec,
      env,
    );
    expect(flags).toMatchObject({ grpcPort: 9100, host: '::1', dryRun: false, config: 'b.yaml' });
  });

  it('treats an empty env var as unset', () => {
    expect(parseFlags<Opts>([], spec, { GRPC_PORT: '' }).grpcPort).toBe(8081);
  });

  it('reads process.env by default', () => {
    process.env.GRPC_PORT_TEST_ONLY = '1234';
    try {
      const r = parseFlags<{ p: number }>([], {
        p: { flag: 'p-port', env: 'GRPC_PORT_TEST_ONLY', type: 'int', help: '' },
      });
      expect(r.p).toBe(1234);
    } finally {
      delete process.env.GRPC_PORT_TEST_ONLY;
    }
  });

  it('accepts the boolean forms', () => {
    expect(parseFlags<Opts>(['--dry-run'], spec, {}).dryRun).toBe(true);
    expect(parseFlags<Opts>(['--dry-run=0'], spec, {}).dryRun).toBe(false);
    expect(parseFlags<Opts>(['--no-dry-run'], spec, { DRY_RUN: 'true' }).dryRun).toBe(false);
    // A bool flag never swallows the next argument.
    expect(() => parseFlags<Opts>(['--dry-run', 'true'], spec, {})).toThrow('unexpected argument: "true"');
  });

  it('later flags win', () => {
    expect(parseFlags<Opts>(['--workers', '2', '--workers=3'], spec, {}).workers).toBe(3);
  });

  it('explains a bad port', () => {
    const e = errorOf(() => parseFlags<Opts>(['--grpc-port', 'x'], spec, {}));
    expect(e).toBeInstanceOf(FlagError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('FlagError');
    expect(e.message).toBe('--grpc-port: not a port number: "x"');
    expect(errorOf(() => parseFlags<Opts>(['--grpc-port=70000'], spec, {})).message).toBe(
      '--grpc-port: not a port number: "70000"',
    );
    expect(errorOf(() => parseFlags<Opts>([], spec, { GRPC_PORT: '-1' })).message).toBe(
      'GRPC_PORT (env for --grpc-port): not a port number: "-1"',
    );
  });

  it('explains other bad values', () => {
    expect(errorOf(() => parseFlags<Opts>(['--workers', '1.5'], spec, {})).message).toBe(
      '--workers: not an integer: "1.5"',
    );
    expect(errorOf(() => parseFlags<Opts>(['--dry-run=maybe'], spec, {})).message).toBe(
      '--dry-run: not a boolean: "maybe"',
    );
    expect(parseFlags<Opts>(['--workers', '-3'], spec, {}).workers).toBe(-3); // a negative int is a value
  });

  it('rejects unknown flags, missing values and positional arguments', () => {
    expect(errorOf(() => parseFlags<Opts>(['--nope'], spec, {})).message).toBe('unknown flag: --nope');
    expect(errorOf(() => parseFlags<Opts>(['--host'], spec, {})).message).toBe('--host: missing value');
    expect(errorOf(() => parseFlags<Opts>(['--host', '--workers', '2'], spec, {})).message).toBe(
      '--host: missing value',
    );
    expect(errorOf(() => parseFlags<Opts>(['serve'], spec, {})).message).toBe('unexpected argument: "serve"');
    expect(errorOf(() => parseFlags<Opts>(['--', 'x'], spec, {})).message).toBe('unexpected argument: "x"');
  });

  it('enforces required flags', () => {
    const req: FlagsSpec<{ config: string }> = {
      config: { flag: 'config', env: 'CONFIG', type: 'string', required: true, help: 'Config path' },
    };
    expect(errorOf(() => parseFlags(['--'], req, {})).message).toBe('--config: required (or set CONFIG)');
    expect(parseFlags(['--config', 'a'], req, {}).config).toBe('a');
  });

  it('signals --help with helpRequested', () => {
    const e = errorOf(() => parseFlags<Opts>(['--workers', '2', '--help'], spec, {}));
    expect(e.helpRequested).toBe(true);
    expect(errorOf(() => parseFlags<Opts>(['--nope'], spec, {})).helpRequested).toBe(false);
  });
});

describe('usageText', () => {
  it('lists every flag with its value kind, help, env and default', () => {
    const text = usageText(spec);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('Flags:');
    expect(lines).toHaveLength(7);
    expect(text).toContain('--grpc-port <int>  gRPC listen port (env GRPC_PORT, default 8081)');
    expect(text).toMatch(/--dry-run\s+Do nothing \(env DRY_RUN, default false\)/);
    expect(text).toMatch(/--config <string>\s+Config path \(env CONFIG\)\n/);
    expect(text).toMatch(/-h, --help\s+Show this help/);
  });
});
