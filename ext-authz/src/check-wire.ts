// The gRPC Check path straight on the wire: bytes of a CheckRequest → CheckInput, Decision → bytes
// of a CheckResponse, with protobuf-es's own BinaryReader, our ProtoWriter and the field numbers read
// from the generated schemas. Decoding a whole CheckRequest into messages and building a
// CheckResponse message to encode it cost more than the rest of a check; this reads only the
// fields a decision uses and skips the others.
//
// checkInputFromEnvoy / envoyCheckResponse (check-grpc.ts) are the same mappings on messages: a
// test holds the two to the same results for valid, odd and corrupted inputs.
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { AddressSchema, SocketAddressSchema } from '../../common/envoy-api/gen/envoy/config/core/v3/address_pb.js';
import {
  HeaderMapSchema,
  HeaderValueOptionSchema,
  HeaderValueSchema,
} from '../../common/envoy-api/gen/envoy/config/core/v3/base_pb.js';
import {
  AttributeContext_HttpRequestSchema,
  AttributeContext_PeerSchema,
  AttributeContext_RequestSchema,
  AttributeContextSchema,
} from '../../common/envoy-api/gen/envoy/service/auth/v3/attribute_context_pb.js';
import {
  CheckRequestSchema,
  CheckResponseSchema,
  DeniedHttpResponseSchema,
  OkHttpResponseSchema,
} from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import {
  eachField,
  eachTopField,
  encodeMessage,
  field,
  isAscii,
  RECURSION_LIMIT,
  readInternedString,
  readString,
  readTag,
  skipField,
} from '../../common/envoy-api/proto-wire.js';
import type { ProtoWriter } from '../../common/envoy-api/proto-writer.js';
import { policyContextKey, responseStatusCode } from './check-grpc.js';
import { type CheckInput, type Decision, denialBody, type RequestHeaders } from './decision.js';
import { HeaderList } from './header-list.js';

const F = {
  attributes: field(CheckRequestSchema, 'attributes'),
  source: field(AttributeContextSchema, 'source'),
  request: field(AttributeContextSchema, 'request'),
  contextExtensions: field(AttributeContextSchema, 'contextExtensions'),
  peerAddress: field(AttributeContext_PeerSchema, 'address'),
  socketAddress: field(AddressSchema, 'socketAddress'),
  socketAddressAddress: field(SocketAddressSchema, 'address'),
  http: field(AttributeContext_RequestSchema, 'http'),
  id: field(AttributeContext_HttpRequestSchema, 'id'),
  method: field(AttributeContext_HttpRequestSchema, 'method'),
  headers: field(AttributeContext_HttpRequestSchema, 'headers'),
  path: field(AttributeContext_HttpRequestSchema, 'path'),
  host: field(AttributeContext_HttpRequestSchema, 'host'),
  body: field(AttributeContext_HttpRequestSchema, 'body'),
  rawBody: field(AttributeContext_HttpRequestSchema, 'rawBody'),
  headerMap: field(AttributeContext_HttpRequestSchema, 'headerMap'),
  headerMapHeaders: field(HeaderMapSchema, 'headers'),
  headerKey: field(HeaderValueSchema, 'key'),
  headerValue: field(HeaderValueSchema, 'value'),
  headerRawValue: field(HeaderValueSchema, 'rawValue'),
};
// Other members of Address's oneof: a later one replaces the socket address (as in a message).
const addressOneof = new Set(
  AddressSchema.fields.filter((f) => f.oneof && f.number !== F.socketAddress.no).map((f) => f.number),
);

/** No bytes: one shared instance (read only, like every byte array a CheckInput holds). */
const NO_BYTES = new Uint8Array(0);

/** What the decision reads from a CheckRequest, gathered while reading (repeated fields merge as in protobuf). */
interface Gathered {
  /** The serialized CheckRequest. */
  bytes: Uint8Array;
  id: string;
  method: string;
  path: string;
  host: string;
  body: string;
  rawBody: Uint8Array;
  /**
   * The `headers` map's entries (protobuf map semantics: the last entry of a key wins): Envoy's
   * keys are lower case, and then this is CheckInput's headers.
   */
  headers: HeaderList;
  /** A key of `headers` has an upper-case letter (not from Envoy): keys are lower-cased after reading. */
  upperCaseKey: boolean;
  headerList: { key: string; value: string; rawValue: Uint8Array }[];
  /** context_extensions["policy"] (the last entry wins); the other keys are not read. */
  policy: string | undefined;
  /** undefined: no socket address (absent, or replaced by another member of the oneof). */
  sourceAddress: string | undefined;
}

/** What toLowerCase() changes (which it tells by returning a new string, even when it changes nothing). */
const UPPER_CASE = /[A-Z\u00c0-\uffff]/;

/** The key and value of the map entry read last (readStringMapEntry): reading is synchronous. */
const entry = { key: '', value: '' };

// Called once per map entry: the loop of eachField written out, without a closure per entry. Keys
// and values are names (context_extensions: from our own configuration): interned.
function readStringMapEntry(r: BinaryReader, depth: number, strict: boolean): void {
  if (depth > RECURSION_LIMIT) throw new Error('maximum recursion depth reached');
  entry.key = '';
  entry.value = '';
  const length = r.uint32(); // before reading r.pos: uint32() moves it
  const end = r.pos + length;
  while (r.pos < end) {
    const tag = readTag(r);
    const no = tag >>> 3;
    if (no === 1) entry.key = readInternedString(r, strict);
    else if (no === 2) entry.value = readInternedString(r, strict);
    else skipField(r, tag & 7, no, RECURSION_LIMIT - depth);
  }
}

// One entry of the `headers` map: the name interned, an ASCII value kept as octets (HeaderList
// decodes it if asked), any other value read (and checked as UTF-8) now, as readString does.
function readHeaderEntry(r: BinaryReader, depth: number, strict: boolean, g: Gathered): void {
  if (depth > RECURSION_LIMIT) throw new Error('maximum recursion depth reached');
  let name = '';
  let value = '';
  let start = -1;
  let end = -1;
  const length = r.uint32(); // before reading r.pos: uint32() moves it
  const entryEnd = r.pos + length;
  while (r.pos < entryEnd) {
    const tag = readTag(r);
    const no = tag >>> 3;
    if (no === 1) name = readInternedString(r, strict);
    else if (no === 2) {
      const at = r.pos;
      const len = r.uint32();
      const stop = r.pos + len;
      if (stop <= r.len && isAscii(g.bytes, r.pos, stop)) {
        start = r.pos;
        end = stop;
        r.pos = stop;
      } else {
        r.pos = at;
        value = readString(r, strict);
        start = end = -1;
      }
    } else skipField(r, tag & 7, no, RECURSION_LIMIT - depth);
  }
  if (start >= 0) g.headers.addAscii(name, start, end);
  else g.headers.add(name, value);
  if (!g.upperCaseKey && UPPER_CASE.test(name)) g.upperCaseKey = true;
}

function readHttp(r: BinaryReader, depth: number, g: Gathered): void {
  eachField(r, depth, AttributeContext_HttpRequestSchema, (no) => {
    switch (no) {
      case F.id.no:
        g.id = readString(r, F.id.strict);
        return true;
      case F.method.no:
        g.method = readInternedString(r, F.method.strict);
        return true;
      case F.path.no:
        g.path = readString(r, F.path.strict);
        return true;
      case F.host.no:
        g.host = readInternedString(r, F.host.strict);
        return true;
      case F.body.no:
        g.body = readString(r, F.body.strict);
        return true;
      case F.rawBody.no:
        g.rawBody = r.bytes();
        return true;
      case F.headers.no:
        readHeaderEntry(r, depth + 1, F.headers.strict, g);
        return true;
      case F.headerMap.no:
        eachField(r, depth + 1, HeaderMapSchema, (hno) => {
          if (hno !== F.headerMapHeaders.no) return false;
          const h: { key: string; value: string; rawValue: Uint8Array } = {
            key: '',
            value: '',
            rawValue: NO_BYTES,
          };
          eachField(r, depth + 2, HeaderValueSchema, (vno) => {
            if (vno === F.headerKey.no) h.key = readString(r, F.headerKey.strict);
            else if (vno === F.headerValue.no) h.value = readString(r, F.headerValue.strict);
            else if (vno === F.headerRawValue.no) h.rawValue = r.bytes();
            else return false;
            return true;
          });
          g.headerList.push(h);
          return true;
        });
        return true;
      default:
        return false;
    }
  });
}

function readAttributes(r: BinaryReader, depth: number, g: Gathered): void {
  eachField(r, depth, AttributeContextSchema, (no) => {
    if (no === F.request.no) {
      eachField(r, depth + 1, AttributeContext_RequestSchema, (rno) => {
        if (rno !== F.http.no) return false;
        readHttp(r, depth + 2, g);
        return true;
      });
      return true;
    }
    if (no === F.source.no) {
      eachField(r, depth + 1, AttributeContext_PeerSchema, (pno) => {
        if (pno !== F.peerAddress.no) return false;
        eachField(r, depth + 2, AddressSchema, (ano) => {
          if (ano === F.socketAddress.no) {
            let address = g.sourceAddress ?? '';
            eachField(r, depth + 3, SocketAddressSchema, (sno) => {
              if (sno !== F.socketAddressAddress.no) return false;
              address = readInternedString(r, F.socketAddressAddress.strict);
              return true;
            });
            g.sourceAddress = address;
            return true;
          }
          if (addressOneof.has(ano)) g.sourceAddress = undefined;
          return false;
        });
        return true;
      });
      return true;
    }
    if (no === F.contextExtensions.no) {
      readStringMapEntry(r, depth + 1, F.contextExtensions.strict);
      if (entry.key === policyContextKey) g.policy = entry.value; // the last entry of a key wins, as in a protobuf map
      return true;
    }
    return false;
  });
}

const utf8 = new TextDecoder();

/** A serialized CheckRequest → CheckInput (as checkInputFromEnvoy(fromBinary(...)) gives it). Throws on bad bytes. */
export function checkInputFromWire(bytes: Uint8Array): CheckInput {
  const g: Gathered = {
    bytes,
    id: '',
    method: '',
    path: '',
    host: '',
    body: '',
    rawBody: NO_BYTES,
    headers: new HeaderList(bytes),
    upperCaseKey: false,
    headerList: [],
    policy: undefined,
    sourceAddress: undefined,
  };
  const r = new BinaryReader(bytes);
  eachTopField(r, CheckRequestSchema, (no) => {
    if (no !== F.attributes.no) return false;
    readAttributes(r, 1, g);
    return true;
  });
  let headers: RequestHeaders = g.headers;
  if (g.headerList.length) {
    const merged = new Map<string, string[]>();
    for (const h of g.headerList) {
      const k = h.key.toLowerCase();
      const v = h.value || utf8.decode(h.rawValue);
      const list = merged.get(k);
      if (list) list.push(v);
      else merged.set(k, [v]);
    }
    headers = merged;
  } else if (g.upperCaseKey) {
    // As a protobuf map, then merged by lower-case name (a later key of the map wins).
    const merged = new Map<string, string[]>();
    for (const [k, v] of g.headers.toMap()) merged.set(k.toLowerCase(), v);
    headers = merged;
  }
  let body: Uint8Array | undefined;
  if (g.rawBody.length) body = g.rawBody;
  else if (g.body) body = new TextEncoder().encode(g.body);
  return {
    method: g.method || headers.get(':method')?.[0] || '',
    path: g.path || headers.get(':path')?.[0] || '',
    host: g.host || headers.get(':authority')?.[0] || '',
    headers,
    body,
    policy: g.policy,
    requestId: g.id || headers.get('x-request-id')?.[0] || '',
    sourceIp: headers.get('x-envoy-external-address')?.[0] ?? g.sourceAddress ?? '',
  };
}

const W = {
  status: field(CheckResponseSchema, 'status').no,
  deniedResponse: field(CheckResponseSchema, 'deniedResponse').no,
  okResponse: field(CheckResponseSchema, 'okResponse').no,
  dynamicMetadata: field(CheckResponseSchema, 'dynamicMetadata').no,
  okHeaders: field(OkHttpResponseSchema, 'headers').no,
  okHeadersToRemove: field(OkHttpResponseSchema, 'headersToRemove').no,
  deniedStatus: field(DeniedHttpResponseSchema, 'status').no,
  deniedHeaders: field(DeniedHttpResponseSchema, 'headers').no,
  deniedBody: field(DeniedHttpResponseSchema, 'body').no,
  optionHeader: field(HeaderValueOptionSchema, 'header').no,
  optionAppend: field(HeaderValueOptionSchema, 'append').no,
  headerKey: F.headerKey.no,
  headerValue: F.headerValue.no,
};
// google.rpc.Status, google.protobuf.Struct/Value and envoy.type.v3.HttpStatus: stable well-known layouts.
const RPC_STATUS_CODE = 1;
const RPC_STATUS_MESSAGE = 2;
const HTTP_STATUS_CODE = 1;
const STRUCT_FIELDS = 1;
const VALUE_NUMBER = 2;
const VALUE_STRING = 3;

function writeHeaderOption(w: ProtoWriter, fieldNo: number, key: string, value: string): void {
  w.tag(fieldNo, WireType.LengthDelimited).fork();
  w.tag(W.optionHeader, WireType.LengthDelimited).fork();
  if (key !== '') w.tag(W.headerKey, WireType.LengthDelimited).string(key);
  if (value !== '') w.tag(W.headerValue, WireType.LengthDelimited).string(value);
  w.join();
  // append: false, set explicitly (an empty BoolValue).
  w.tag(W.optionAppend, WireType.LengthDelimited).fork().join();
  w.join();
}

function writeStatus(w: ProtoWriter, code: number, message: string): void {
  w.tag(W.status, WireType.LengthDelimited).fork();
  if (code !== 0) w.tag(RPC_STATUS_CODE, WireType.Varint).int32(code);
  if (message !== '') w.tag(RPC_STATUS_MESSAGE, WireType.LengthDelimited).string(message);
  w.join();
}

/** Decision → serialized CheckResponse (what toBinary(envoyCheckResponse(d)) decodes to). */
export function checkResponseToWire(d: Decision): Uint8Array {
  return encodeMessage((w) => writeCheckResponse(w, d));
}

function writeCheckResponse(w: ProtoWriter, d: Decision): void {
  if (d.allow) {
    writeStatus(w, 0, '');
    w.tag(W.okResponse, WireType.LengthDelimited).fork();
    for (const [k, v] of d.setHeaders) writeHeaderOption(w, W.okHeaders, k, v);
    for (const h of d.removeHeaders) w.tag(W.okHeadersToRemove, WireType.LengthDelimited).string(h);
    w.join();
    w.tag(W.dynamicMetadata, WireType.LengthDelimited).fork();
    for (const key of Object.keys(d.metadata)) {
      const v = d.metadata[key];
      w.tag(STRUCT_FIELDS, WireType.LengthDelimited).fork();
      w.tag(1, WireType.LengthDelimited).string(key);
      w.tag(2, WireType.LengthDelimited).fork();
      if (typeof v === 'number') w.tag(VALUE_NUMBER, WireType.Bit64).double(v);
      else w.tag(VALUE_STRING, WireType.LengthDelimited).string(v);
      w.join();
      w.join();
    }
    w.join();
    return;
  }
  writeStatus(w, responseStatusCode(d.status), d.reason);
  w.tag(W.deniedResponse, WireType.LengthDelimited).fork();
  w.tag(W.deniedStatus, WireType.LengthDelimited).fork();
  if (d.status !== 0) w.tag(HTTP_STATUS_CODE, WireType.Varint).int32(d.status);
  w.join();
  writeHeaderOption(w, W.deniedHeaders, 'content-type', 'application/json');
  for (const [k, v] of d.responseHeaders) writeHeaderOption(w, W.deniedHeaders, k, v);
  const body = denialBody(d);
  if (body !== '') w.tag(W.deniedBody, WireType.LengthDelimited).string(body);
  w.join();
}
