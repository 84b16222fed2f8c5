import { create, createFileRegistry, type DescService, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RateLimitRequestSchema,
  RateLimitResponse_Code,
  RateLimitResponseSchema,
  RateLimitService,
} from '../envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { grpcServiceDefinition, rawBytesDefinition } from './grpc-service.js';

// A service with one method of each kind, built from a descriptor at run time (the generated
// Envoy services used here are all unary).
function streamerService(): DescService {
  const file = create(FileDescriptorProtoSchema, {
    name: 'test/streamer.proto',
    package: 'test.v1',
    syntax: 'proto3',
    messageType: [
      {
        name: 'Ping',
        field: [
          {
            name: 'text',
            jsonName: 'text',
            number: 1,
            type: FieldDescriptorProto_Type.STRING,
            label: FieldDescriptorProto_Label.OPTIONAL,
          },
        ],
      },
    ],
    service: [
      {
        name: 'Streamer',
        method: [
          { name: 'Unary', inputType: '.test.v1.Ping', outputType: '.test.v1.Ping' },
          { name: 'ServerStream', inputType: '.test.v1.Ping', outputType: '.test.v1.Ping', serverStreaming: true },
          { name: 'ClientStream', inputType: '.test.v1.Ping', outputType: '.test.v1.Ping', clientStreaming: true },
          {
            name: 'Bidi',
            inputType: '.test.v1.Ping',
            outputType: '.test.v1.Ping',
            clientStreaming: true,
            serverStreaming: true,
          },
        ],
      },
    ],
  });
  const service = createFileRegistry(file, () => undefined).getService('test.v1.Streamer');
  if (!service) throw new Error('test service not built');
  return service;
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function serve(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation) {
  const server = new grpc.Server();
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  cleanups.push(() => {
    server.forceShutdown();
  });
  return port;
}

function client(definition: grpc.ServiceDefinition, port: number): grpc.Client {
  const Ctor = grpc.makeGenericClientConstructor(definition, 'TestClient');
  const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  cleanups.push(() => c.close());
  return c as never;
}

function unary(c: grpc.Client, method: string, request: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    (c as unknown as Record<string, (req: unknown, cb: (e: grpc.ServiceError | null, res: unknown) => void) => void>)[
      method
    ](request, (e, res) => (e ? reject(e) : resolve(res)));
  });
}

describe('grpcServiceDefinition', () => {
  it('maps an Envoy unary service to grpc-js paths, names and flags', () => {
    const def = grpcServiceDefinition(RateLimitService);
    expect(Object.keys(def)).toEqual(['ShouldRateLimit']);
    const m = def.ShouldRateLimit;
    expect(m.path).toBe('/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit');
    expect(m.originalName).toBe('shouldRateLimit');
    expect(m.requestStream).toBe(false);
    expect(m.responseStream).toBe(false);
  });

  it('sets the streaming flags from the method kind', () => {
    const def = grpcServiceDefinition(streamerService());
    const flags = Object.fromEntries(
      Object.entries(def).map(([name, m]) => [name, [m.path, m.requestStream, m.responseStream]]),
    );
    expect(flags).toEqual({
      Unary: ['/test.v1.Streamer/Unary', false, false],
      ServerStream: ['/test.v1.Streamer/ServerStream', false, true],
      ClientStream: ['/test.v1.Streamer/ClientStream', true, false],
      Bidi: ['/test.v1.Streamer/Bidi', true, true],
    });
  });

  it('serializes with toBinary and deserializes with fromBinary (messages and plain init objects)', () => {
    const m = grpcServiceDefinition(RateLimitService).ShouldRateLimit;
    const request = create(RateLimitRequestSchema, {
      domain: 'llm',
      hitsAddend: 7,
      descriptors: [{ entries: [{ key: 'tenant', value: 'acme' }] }],
    });
    const bytes = m.requestSerialize(request);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(new Uint8Array(bytes)).toEqual(toBinary(RateLimitRequestSchema, request));
    const back = m.requestDeserialize(bytes) as typeof request;
    expect(back.domain).toBe('llm');
    expect(back.hitsAddend).toBe(7);
    expect(back.descriptors[0].entries[0].value).toBe('acme');

    const plain = m.responseSerialize({ overallCode: RateLimitResponse_Code.OVER_LIMIT });
    expect(fromBinary(RateLimitResponseSchema, plain).overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
  });

  it('throws a descriptive error on bytes that are not the message', () => {
    const m = grpcServiceDefinition(RateLimitService).ShouldRateLimit;
    expect(() => m.requestDeserialize(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(
      /invalid envoy\.service\.ratelimit\.v3\.RateLimitRequest: premature EOF/,
    );
  });

  it('serves a unary call over a real socket; implementations may use either method name', async () => {
    const def = grpcServiceDefinition(RateLimitService);
    const port = await serve(def, {
      shouldRateLimit: (
        call: grpc.ServerUnaryCall<{ domain: string }, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        callback(null, {
          overallCode: call.request.domain === 'deny' ? RateLimitResponse_Code.OVER_LIMIT : RateLimitResponse_Code.OK,
        });
      },
    });
    const c = client(def, port);
    const ok = (await unary(c, 'ShouldRateLimit', create(RateLimitRequestSchema, { domain: 'allow' }))) as {
      overallCode: number;
    };
    expect(ok.overallCode).toBe(RateLimitResponse_Code.OK);
    const denied = (await unary(c, 'shouldRateLimit', create(RateLimitRequestSchema, { domain: 'deny' }))) as {
      overallCode: number;
      $typeName: string;
    };
    expect(denied.$typeName).toBe('envoy.service.ratelimit.v3.RateLimitResponse');
    expect(denied.overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
  });

  it('serves a bidi streaming call over a real socket', async () => {
    const def = grpcServiceDefinition(streamerService());
    const port = await serve(def, {
      Bidi: (call: grpc.ServerDuplexStream<{ text: string }, unknown>) => {
        call.on('data', (m: { text: string }) => call.write({ text: m.text.toUpperCase() }));
        call.on('end', () => call.end());
      },
    });
    const c = client(def, port) as unknown as { Bidi(): grpc.ClientDuplexStream<unknown, { text: string }> };
    const stream = c.Bidi();
    const got: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (m) => got.push(m.text));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    stream.write({ text: 'a' });
    stream.write({ text: 'b' });
    stream.end();
    await done;
    expect(got).toEqual(['A', 'B']);
  });

  it('answers garbage request bytes with INVALID_ARGUMENT or INTERNAL, without calling the handler or crashing', async () => {
    const def = grpcServiceDefinition(RateLimitService);
    let handled = 0;
    const port = await serve(def, {
      ShouldRateLimit: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        handled++;
        callback(null, { overallCode: RateLimitResponse_Code.OK });
      },
    });

    // A raw client that sends bytes as they are.
    const RawClient = grpc.makeGenericClientConstructor(
      rawBytesDefinition({ ShouldRateLimit: '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit' }),
      'Raw',
    );
    const raw = new RawClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    cleanups.push(() => raw.close());

    const garbage = [
      [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], // length beyond the end
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // endless varint
      [0x00, 0x01, 0x02], // field number 0
      [0x0f, 0x13, 0x37], // wire type 7
    ];
    for (const bytes of garbage) {
      const error = await unary(raw, 'ShouldRateLimit', Buffer.from(bytes)).then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      );
      expect(error, `bytes ${bytes}`).toBeDefined();
      expect([grpc.status.INVALID_ARGUMENT, grpc.status.INTERNAL]).toContain(error?.code);
    }
    expect(handled).toBe(0);

    // The server is still up and serves well-formed requests on the same connection.
    const valid = Buffer.from(toBinary(RateLimitRequestSchema, create(RateLimitRequestSchema, { domain: 'd' })));
    const response = (await unary(raw, 'ShouldRateLimit', valid)) as Buffer;
    expect(fromBinary(RateLimitResponseSchema, response).overallCode).toBe(RateLimitResponse_Code.OK);
    expect(handled).toBe(1);
  });
});
