import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

/** A stream whose reader is stalled until release(): writes complete only then (as a full pipe). */
function stalled(highWaterMark = 1024) {
  const received: string[] = [];
  const pending: (() => void)[] = [];
  let open = false;
  const stream = new Writable({
    highWaterMark,
    write(chunk, _encoding, done) {
      received.push(String(chunk));
      if (open) done();
      else pending.push(done);
    },
  });
  return {
    stream,
    received,
    release() {
      open = true;
      for (const done of pending.splice(0)) done();
    },
    lines: () =>
      received
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('log output when the reader falls behind', () => {
  it('holds lines up to maxHeldBytes, drops and counts the rest, then writes the held ones in order and says how many were lost', async () => {
    const out = stalled();
    const log = createLogger('svc', { stream: out.stream, level: 'info', maxHeldBytes: 2000 });
    const pad = 'x'.repeat(100);
    for (let i = 0; i < 100; i++) log.info(`line ${i}`, { pad });
    const heldLines = out.lines().length;
    expect(heldLines).toBeLessThan(100); // the stream took some, then asked to wait
    expect(log.dropped()).toBeGreaterThan(0);
    const received = 100 - log.dropped();
    out.release();
    await new Promise((r) => setImmediate(r));
    const lines = out.lines();
    const msgs = lines.map((l) => l.msg);
    // Everything not dropped arrives, in order, then the report.
    expect(msgs.slice(0, -1)).toEqual(Array.from({ length: received }, (_, i) => `line ${i}`));
    expect(lines.at(-1)).toMatchObject({
      level: 'warn',
      msg: 'log lines dropped: the log reader fell behind',
      dropped: log.dropped(),
    });
    // And the output goes on as before.
    log.info('after');
    expect(out.lines().at(-1)?.msg).toBe('after');
  });

  it('holds at most maxHeldBytes, however many lines come (memory is bounded)', () => {
    const out = stalled();
    const log = createLogger('svc', { stream: out.stream, level: 'info', maxHeldBytes: 10_000, batch: true });
    for (let i = 0; i < 20_000; i++) log.info('line', { i });
    log.warn('flush what is batched'); // a warn line is written at once: the batch goes to the output
    const bytesOut = out.received.reduce((n, c) => n + Buffer.byteLength(c), 0);
    // What the stream itself took before asking to wait, plus a batch: the rest was dropped.
    expect(bytesOut).toBeLessThan(2 * 4096);
    expect(log.dropped()).toBeGreaterThan(19_000);
  });

  it('drops nothing while the reader keeps up', async () => {
    const out = stalled();
    out.release();
    const log = createLogger('svc', { stream: out.stream, level: 'info', maxHeldBytes: 100 });
    for (let i = 0; i < 1000; i++) log.info('line', { i });
    await new Promise((r) => setImmediate(r));
    expect(log.dropped()).toBe(0);
    expect(out.lines()).toHaveLength(1000);
  });
});
