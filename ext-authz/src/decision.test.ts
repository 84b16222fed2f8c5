import { toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { CheckRequestSchema } from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import { envoyCheckRequest } from '../../test/support/envoy-check.js';
import { checkInputFromWire } from './check-wire.js';
import { type CheckInput, detachInput } from './decision.js';

describe('detachInput (before a check waits)', () => {
  it('gives a request read off the wire its own headers and body: the socket buffer it came in may go', () => {
    const message = toBinary(
      CheckRequestSchema,
      envoyCheckRequest({
        path: '/v1/chat/completions',
        policy: 'chat',
        headers: { 'x-api-key': 'aigw_key', 'user-agent': 'sdk/1' },
        body: { model: 'gpt-4o' },
      }),
    );
    // As the gRPC server hands it over: a view of a socket read that holds other frames too.
    const chunk = Buffer.concat([Buffer.alloc(100, 0x61), message, Buffer.alloc(100, 0x62)]);
    const input = checkInputFromWire(chunk.subarray(100, 100 + message.length));
    expect(input.headers).not.toBeInstanceOf(Map);
    expect(input.body?.buffer).toBe(chunk.buffer);
    const before = { headers: new Map(input.headers), body: Buffer.from(input.body!).toString() };

    detachInput(input);
    chunk.fill(0x7a); // the socket's buffer, reused or rewritten: nothing of it is read any more
    expect(input.headers).toBeInstanceOf(Map);
    expect(new Map(input.headers)).toEqual(before.headers);
    expect(input.headers.get('x-api-key')).toEqual(['aigw_key']);
    expect(Buffer.from(input.body!).toString()).toBe(before.body);
    expect(input.body!.byteLength).toBe(input.body!.buffer.byteLength);
  });

  it('leaves alone what is already the input’s own (a Map, a body with its own buffer)', () => {
    const headers = new Map([['x-api-key', ['k']]]);
    const body = new Uint8Array([0x7b, 0x7d]);
    const input: CheckInput = { method: 'POST', path: '/', host: '', headers, body, requestId: '', sourceIp: '' };
    detachInput(input);
    expect(input.headers).toBe(headers);
    expect(input.body).toBe(body);
    const none: CheckInput = { ...input, body: undefined };
    detachInput(none);
    expect(none.body).toBeUndefined();
  });
});
