import { afterEach, describe, expect, it } from 'vitest';
import { GrpcRequestReader } from './grpc-request-reader.js';
import { Http2ServerStream, type StreamSink } from './http2/server-stream.js';

// What the reader asks of a stream's connection: nothing here is written anywhere.
const sink: StreamSink = {
  sendHeaders: () => {},
  sendData: () => {},
  sendTrailers: () => {},
  sendAnswer: () => {},
  resetStream: () => {},
};
const readers: GrpcRequestReader[] = [];
afterEach(() => {
  for (const reader of readers.splice(0)) reader.close();
});

function setup(maxMessage = 1000, maxBuffered = 2000) {
  const statuses: [number, string][] = [];
  const reader = new GrpcRequestReader(maxMessage, maxBuffered, 60_000, (_stream, code, message) =>
    statuses.push([code, message]),
  );
  readers.push(reader);
  let id = 1;
  const stream = () => {
    id += 2;
    return new Http2ServerStream(sink, id, 'POST', '/s/m', 'application/grpc', 65_535, 65_535);
  };
  return { reader, statuses, stream };
}

describe('GrpcRequestReader', () => {
  it('hands on a body that came whole in one frame as it is, without a copy', () => {
    const { reader, stream } = setup();
    const s = stream();
    let body: Buffer | undefined;
    reader.read(s, (b) => {
      body = b;
    });
    const chunk = Buffer.from([0, 0, 0, 0, 1, 7]);
    s.onData?.(chunk, true);
    s.onEnd?.();
    expect(body).toBe(chunk);
    expect(reader.held).toBe(0);
  });

  it('copies a body that comes in several frames: it keeps no view of the socket buffers', () => {
    const { reader, stream } = setup();
    const s = stream();
    let body: Buffer | undefined;
    reader.read(s, (b) => {
      body = b;
    });
    const socketBuffer = Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]);
    s.onData?.(socketBuffer.subarray(0, 6), false);
    socketBuffer.fill(0xee, 0, 6); // the socket's buffer, reused or not, is not the reader's
    expect(reader.held).toBe(6);
    s.onData?.(socketBuffer.subarray(6), true);
    s.onEnd?.();
    expect([...(body ?? [])]).toEqual([0, 0, 0, 0, 3, 1, 2, 3]);
    expect(reader.held).toBe(0);
  });

  it('refuses a message over maxMessage and a call beyond maxBuffered, and releases what a reset call held', () => {
    const { reader, statuses, stream } = setup(1000, 2000);
    const big = stream();
    reader.read(big, () => expect.fail('not done'));
    big.onData?.(Buffer.alloc(1006), false);
    expect(statuses.pop()).toEqual([8, 'request message larger than 1000 bytes']);
    expect(reader.held).toBe(0);

    const a = stream();
    const b = stream();
    const c = stream();
    for (const s of [a, b, c]) reader.read(s, () => {});
    a.onData?.(Buffer.alloc(900), false);
    b.onData?.(Buffer.alloc(900), false);
    expect(reader.held).toBe(1800);
    c.onData?.(Buffer.alloc(900), false);
    expect(statuses.pop()).toEqual([8, 'server busy: too many request bytes in flight']);
    a.onClose?.(); // a reset mid-body
    expect(reader.held).toBe(900);
  });
});
