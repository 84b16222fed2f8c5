// The simulator's side-calls, made the way Envoy makes them: the generated protobuf-es messages over
// real HTTP/2 gRPC (@grpc/grpc-js), with the filter's timeout as the call deadline and the cluster
// name as :authority (Envoy's envoy_grpc default).
import type { DescService } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { grpcServiceDefinition } from '../../../common/service-runtime/index.js';

export interface Endpoint {
  host: string;
  port: number;
}

type Unary = (
  request: unknown,
  options: grpc.CallOptions,
  callback: (e: grpc.ServiceError | null, response: unknown) => void,
) => void;

export class UnaryClient<Req, Res> {
  private readonly client: grpc.Client;

  constructor(
    service: DescService,
    private readonly method: string,
    endpoint: Endpoint,
    authority: string,
  ) {
    const Ctor = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.name);
    this.client = new Ctor(`${endpoint.host}:${endpoint.port}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': authority,
    });
  }

  call(request: Req, timeoutMs: number): Promise<Res> {
    const fn = (this.client as unknown as Record<string, Unary>)[this.method];
    return new Promise((resolve, reject) => {
      fn.call(this.client, request, { deadline: Date.now() + timeoutMs }, (e, r) =>
        e ? reject(e) : resolve(r as Res),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

export function grpcErrorText(e: unknown): string {
  const se = e as Partial<grpc.ServiceError>;
  if (typeof se?.code === 'number') return `gRPC ${grpc.status[se.code] ?? se.code}: ${se.details ?? ''}`.trim();
  return e instanceof Error ? e.message : String(e);
}
