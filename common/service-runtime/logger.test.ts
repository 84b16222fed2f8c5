import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, isLogLevel, type LogMembers, PIPE_BUF } from './logger.js';

function sink(): { stream: Writable; lines: () => Record<string, unknown>[]; raw: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return {
    stream,
    raw: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createLogger', () => {
  it('writes one JSON object per line: time, level, service, msg, then the fields', () => {
    const out = sink();
    const log = createLogger('ratelimit-service', { stream: out.stream });
    log.info('listening', { port: 8081, tls: false });
    log.warn('slow');
    expect(out.raw().endsWith('\n')).toBe(true);
    expect(out.raw().split('\n')).toHaveLength(3);
    const [first, second] = out.lines();
    expect(Object.keys(first)).toEqual(['time', 'level', 'service', 'msg', 'port', 'tls']);
    expect(first).toMatchObject({
      level: 'info',
      service: 'ratelimit-service',
      msg: 'listening',
      port: 8081,
      tls: false,
    });
    expect(new Date(first.time as string).toISOString()).toBe(first.time);
    expect(second).toMatchObject({ level: 'warn', msg: 'slow' });
  });

  it('writes each line as JSON.stringify of {time, level, service, msg, ...fields} would, byte for byte', () => {
    const cases: Record<string, unknown>[] = [
      { request_id: 'r-1', client: 'agents-service', status: 200, latency_ms: 0.123, allow: true, model: undefined },
      { quote: 'a "b" \\ c\n\u0001 é 💡', nan: Number.NaN, inf: -Infinity, zero: -0, big: 1e21, none: null },
      { '404': 'integer-like keys go first', b: 1, '7': 2 },
      { time: 'reserved', msg: 'also reserved', other: 'x' },
      { nested: { a: 1 }, list: [1, 'two'] },
      { '': 'empty key', 'with space': 's', __proto__x: 'not the prototype' },
      { lone: 'a\ud800b', pair: '😀', tab: 'a\tb', del: '\u007f', 'k"ey': 'v\\', ctl: '\u001f' },
    ];
    for (const fields of cases) {
      const out = sink();
      const log = createLogger('svc "x"', { stream: out.stream });
      log.info('m\u00e9ss"age', fields);
      const line = out.raw().trimEnd();
      const time = (JSON.parse(line) as { time: string }).time;
      const record: Record<string, unknown> = { time, level: 'info', service: 'svc "x"', msg: 'm\u00e9ss"age' };
      for (const k of Object.keys(fields))
        record[['time', 'level', 'service', 'msg'].includes(k) ? `field_${k}` : k] = fields[k];
      expect(line).toBe(JSON.stringify(record));
    }
  });

  it('drops lines below the level (default info)', () => {
    const out = sink();
    vi.stubEnv('LOG_LEVEL', '');
    const log = createLogger('svc', { stream: out.stream });
    expect(log.level).toBe('info');
    log.debug('hidden');
    log.info('shown');
    log.error('also shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown', 'also shown']);
  });

  it('takes the level from LOG_LEVEL, and opts.level over it', () => {
    vi.stubEnv('LOG_LEVEL', 'WARN');
    const a = sink();
    const fromEnv = createLogger('svc', { stream: a.stream });
    fromEnv.info('no');
    fromEnv.warn('yes');
    expect(a.lines().map((l) => l.msg)).toEqual(['yes']);

    const b = sink();
    const fromOpts = createLogger('svc', { stream: b.stream, level: 'debug' });
    fromOpts.debug('dbg');
    expect(b.lines().map((l) => l.msg)).toEqual(['dbg']);

    vi.stubEnv('LOG_LEVEL', 'verbose'); // not a level: ignored
    expect(createLogger('svc', { stream: b.stream }).level).toBe('info');
  });

  it('serialises an Error field as {message, name}, with the stack only at debug level', () => {
    const out = sink();
    createLogger('svc', { stream: out.stream, level: 'info' }).error('failed', { err: new TypeError('bad thing') });
    expect(out.lines()[0].err).toEqual({ message: 'bad thing', name: 'TypeError' });

    const dbg = sink();
    createLogger('svc', { stream: dbg.stream, level: 'debug' }).error('failed', { err: new Error('x') });
    const err = dbg.lines()[0].err as Record<string, unknown>;
    expect(err.message).toBe('x');
    expect(err.name).toBe('Error');
    expect(String(err.stack)).toContain('logger.test.ts');
  });

  it('replaces an unserialisable field with "[unserialisable]" and keeps the others', () => {
    const out = sink();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const log = createLogger('svc', { stream: out.stream });
    expect(() => log.info('cycle', { circular, ok: 'yes', big: 10n })).not.toThrow();
    const [line] = out.lines();
    expect(line.circular).toBe('[unserialisable]');
    expect(line.ok).toBe('yes');
    expect(line.big).toBe('10');
    expect(line.msg).toBe('cycle');
  });

  it('never throws, even when the stream does', () => {
    const broken = new Writable({
      write() {
        throw new Error('EPIPE');
      },
    });
    broken.write = () => {
      throw new Error('EPIPE');
    };
    const log = createLogger('svc', { stream: broken });
    expect(() => log.error('x', { y: 1 })).not.toThrow();
    const getterBomb = {
      get boom() {
        throw new Error('getter');
      },
    };
    const out = sink();
    expect(() => createLogger('svc', { stream: out.stream }).info('bomb', { getterBomb })).not.toThrow();
    expect(out.lines()[0].getterBomb).toBe('[unserialisable]');
  });

  it('does not let fields overwrite time, level, service or msg', () => {
    const out = sink();
    createLogger('svc', { stream: out.stream }).info('real', { msg: 'fake', level: 'error', service: 'other' });
    const [line] = out.lines();
    expect(line).toMatchObject({ msg: 'real', level: 'info', service: 'svc', field_msg: 'fake', field_level: 'error' });
  });

  it('recognises levels', () => {
    expect(['debug', 'info', 'warn', 'error'].every(isLogLevel)).toBe(true);
    expect(isLogLevel('trace')).toBe(false);
    expect(isLogLevel('toString')).toBe(false);
  });
});

/** A stream that keeps every write as a string. */
function collected(): { writes: string[]; stream: Writable } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      writes.push(chunk.toString());
      cb();
    },
  });
  return { writes, stream };
}

describe('createLogger with batch', () => {
  it('writes info lines together after the current turn; a warn line at once, after them', async () => {
    const { writes, stream } = collected();
    const log = createLogger('svc', { stream, batch: true, level: 'info' });
    log.info('one');
    log.info('two');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    expect(
      writes[0]
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).msg),
    ).toEqual(['one', 'two']);
    log.info('three');
    log.warn('four');
    expect(writes.slice(1).map((w) => JSON.parse(w.trim()).msg)).toEqual(['three', 'four']);
  });

  it('writes what is waiting when the process exits', () => {
    // The built module (npm test builds first): a child process cannot import TypeScript on Node 20.
    const built = new URL('../../dist/common/service-runtime/logger.js', import.meta.url).href;
    const script = `import { createLogger } from ${JSON.stringify(built)};
      const log = createLogger('svc', { batch: true });
      log.info('last words');
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('"msg":"last words"');
  });
});

describe('createLogger with batch: { maxDelayMs }', () => {
  it('writes lines when PIPE_BUF bytes wait, or when the oldest has waited maxDelayMs; warn at once', async () => {
    const { writes, stream } = collected();
    const log = createLogger('svc', { stream, batch: { maxDelayMs: 30 }, level: 'info' });
    const t0 = performance.now();
    log.info('one');
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual([]); // not per turn
    await new Promise((r) => setTimeout(r, 60));
    expect(writes).toHaveLength(1);
    expect(JSON.parse(writes[0]).msg).toBe('one');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    // A full pipe buffer's worth goes at once, in whole lines of at most PIPE_BUF bytes.
    writes.length = 0;
    const pad = 'x'.repeat(200);
    let n = 0;
    while (writes.length === 0) log.info(`line ${n++}`, { pad });
    // One full write (whole lines, as many as fit), not a full one and a remainder.
    expect(writes).toHaveLength(1);
    expect(Buffer.byteLength(writes[0])).toBeLessThanOrEqual(PIPE_BUF);
    expect(Buffer.byteLength(writes[0])).toBeGreaterThan(PIPE_BUF - 300);
    log.info('after');
    log.warn('urgent');
    expect(writes.at(-1)).toContain('"msg":"urgent"');
    expect(writes.at(-2)).toContain('"msg":"after"');
    const msgs = writes.flatMap((w) => w.split('\n').filter(Boolean)).map((l) => JSON.parse(l).msg);
    expect(msgs).toEqual([...Array.from({ length: n }, (_, i) => `line ${i}`), 'after', 'urgent']);
  });
});

describe('batched lines on a shared pipe', () => {
  it('go in writes of whole lines of at most PIPE_BUF bytes (atomic), multi-byte characters counted as bytes', async () => {
    const { writes, stream } = collected();
    const log = createLogger('svc', { stream, batch: true, level: 'info' });
    const pads = Array.from({ length: 100 }, (_, i) => '\u00e9'.repeat(i % 40) + '\u{1f600}'.repeat(i % 7));
    for (const [i, pad] of pads.entries()) log.info(`line ${i}`, { pad });
    await new Promise((r) => setImmediate(r));
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) {
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(PIPE_BUF);
      expect(w.endsWith('\n')).toBe(true);
    }
    const lines = writes.flatMap((w) => w.split('\n').filter(Boolean)).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.pad)).toEqual(pads);
  });

  it('write a line longer than PIPE_BUF alone, in order, and the lines after it as before', async () => {
    const { writes, stream } = collected();
    const log = createLogger('svc', { stream, batch: true, level: 'info' });
    const long = 'a'.repeat(200_000); // also grows the line buffer past what it keeps
    log.info('a');
    log.info('long', { long });
    log.info('b');
    log.info('c');
    await new Promise((r) => setImmediate(r));
    expect(
      writes.map((w) =>
        w
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).msg),
      ),
    ).toEqual([['a'], ['long'], ['b', 'c']]);
    expect(JSON.parse(writes[1]).long).toBe(long);
  });
});

describe('LogMembers (fields that write themselves)', () => {
  const members = (fields: Record<string, string | number>): LogMembers => ({
    writeMembers(w) {
      for (const [k, v] of Object.entries(fields)) {
        if (typeof v === 'number') w.number(k, v);
        else w.string(k, v);
      }
    },
  });
  const cases: [string, Record<string, string | number>][] = [
    ['plain strings and numbers', { request_id: 'r-1', status: 200, latency_ms: 0.123 }],
    [
      'strings that need escaping',
      { a: 'quote " back \\ nl \n \u0001', b: 'caf\u00e9 \u2028 \u{1f600}', c: '\udc00lone' },
    ],
    ['numbers that are not finite', { n: Number.NaN, i: Number.POSITIVE_INFINITY, neg: -0, big: 1e21 }],
    ['reserved keys, renamed as for an object', { msg: 'm', time: 't', ok: 'yes' }],
    ['no fields', {}],
    ['a key that needs escaping', { 'we"ird': 1 }],
  ];
  it.each(cases)('%s: the same bytes as the fields given as an object', (_, fields) => {
    const fast = sink();
    const generic = sink();
    vi.useFakeTimers({ now: Date.parse('2026-12-06T10:00:00.123Z') });
    try {
      createLogger('svc', { stream: fast.stream, level: 'info' }).info('decision \u00e9', members(fields));
      createLogger('svc', { stream: generic.stream, level: 'info' }).info('decision \u00e9', fields);
    } finally {
      vi.useRealTimers();
    }
    expect(fast.raw()).toBe(generic.raw());
    expect(fast.raw().endsWith('}\n')).toBe(true);
  });

  it('a writer that throws: its line is replaced by an error line saying so, and the caller goes on', () => {
    const out = sink();
    const log = createLogger('svc', { stream: out.stream, level: 'info', batch: true });
    log.info('decision', {
      writeMembers(w) {
        w.string('request_id', 'r-1');
        throw new Error('boom');
      },
    });
    log.info('decision', members({ k: undefined as unknown as string })); // a field that is not a string
    log.info('next', members({ k: 'v' }));
    const lines = out.lines();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['error', 'log line dropped: its fields could not be written'],
      ['error', 'log line dropped: its fields could not be written'],
    ]);
    expect(lines[0]).toMatchObject({ dropped_msg: 'decision', error: { message: 'boom' } });
    expect(lines[0]).not.toHaveProperty('request_id'); // nothing of the half-written line
  });

  it('an error line written for a lost line goes after the lines already waiting, at once', async () => {
    const out = sink();
    const log = createLogger('svc', { stream: out.stream, level: 'info', batch: true });
    log.info('before', members({ k: 'v' }));
    log.info('lost', {
      writeMembers() {
        throw new Error('boom');
      },
    });
    expect(out.lines().map((l) => l.msg)).toEqual(['before', 'log line dropped: its fields could not be written']);
    log.info('after', members({ k: 'v' }));
    await new Promise((r) => setImmediate(r));
    expect(
      out
        .lines()
        .map((l) => l.msg)
        .at(-1),
    ).toBe('after');
  });
});
