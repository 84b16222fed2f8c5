// HpackDecoder against a real, independent encoder: node:http2's client (nghttp2's deflater)
// talks to a bare TCP server here that reassembles each request's header block and decodes it
// with one decoder per connection, in order. Then hand-built blocks for the rules and the errors.
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { prng } from '../../../test/support/prng.js';
import { HpackDecoder, HpackError } from './hpack-decoder.js';

type Field = [string, string];
type Headers = Record<string, string | string[]>;

const FRAME_HEADERS = 0x1;
const FRAME_SETTINGS = 0x4;
const FRAME_CONTINUATION = 0x9;
const FLAG_END_STREAM = 0x1;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
const SETTINGS_HEADER_TABLE_SIZE = 0x1;
const PREFACE_LENGTH = 24;

function frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

function settingsFrame(headerTableSize?: number): Buffer {
  if (headerTableSize === undefined) return frame(FRAME_SETTINGS, 0, 0);
  const payload = Buffer.alloc(6);
  payload.writeUInt16BE(SETTINGS_HEADER_TABLE_SIZE, 0);
  payload.writeUInt32BE(headerTableSize, 2);
  return frame(FRAME_SETTINGS, 0, 0, payload);
}

interface Capture {
  port: number;
  /** Each request's header block (reassembled) and what the connection's decoder made of it. */
  blocks: { block: Buffer; fields: Field[]; frames: number }[];
  /** Sends SETTINGS frames and resolves once the client has acknowledged them all. */
  sendSettings(...frames: Buffer[]): Promise<void>;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

/**
 * A server that speaks just enough HTTP/2: its SETTINGS (plus `initial`), an ACK of the client's,
 * and a `:status: 200` HEADERS frame ending each stream once its header block is decoded.
 */
async function startCapture(decoder: HpackDecoder, initial?: Buffer): Promise<Capture> {
  const blocks: Capture['blocks'] = [];
  let socket: net.Socket | undefined;
  // SETTINGS frames sent (the first one on connection) and the client's ACKs of them.
  let acksSeen = 0;
  let acksWanted = 1;
  let onAcks = () => {};

  const server = net.createServer((s) => {
    socket = s;
    s.write(Buffer.concat([initial ?? settingsFrame(), frame(FRAME_SETTINGS, FLAG_ACK, 0)]));
    let pending = Buffer.alloc(0);
    let preface = false;
    let headerParts: Buffer[] = [];
    let frames = 0;
    s.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      if (!preface) {
        if (pending.length < PREFACE_LENGTH) return;
        expect(pending.subarray(0, PREFACE_LENGTH).toString('latin1')).toBe('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
        pending = pending.subarray(PREFACE_LENGTH);
        preface = true;
      }
      while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
        const length = pending.readUIntBE(0, 3);
        const type = pending[3];
        const flags = pending[4];
        const streamId = pending.readUInt32BE(5) & 0x7fffffff;
        let payload = pending.subarray(9, 9 + length);
        pending = pending.subarray(9 + length);
        if (type === FRAME_SETTINGS && flags & FLAG_ACK) {
          if (++acksSeen >= acksWanted) onAcks();
          continue;
        }
        if (type !== FRAME_HEADERS && type !== FRAME_CONTINUATION) continue;
        if (type === FRAME_HEADERS) {
          if (flags & FLAG_PADDED) payload = payload.subarray(1, payload.length - payload[0]);
          if (flags & FLAG_PRIORITY) payload = payload.subarray(5);
        }
        headerParts.push(payload);
        frames++;
        if (!(flags & FLAG_END_HEADERS)) continue;
        const block = Buffer.concat(headerParts);
        const fields: Field[] = [];
        decoder.decode(block, (name, value) => fields.push([name, value]));
        blocks.push({ block, fields, frames });
        headerParts = [];
        frames = 0;
        // :status 200 (static index 8), ending the stream.
        s.write(frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, streamId, Uint8Array.of(0x88)));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  cleanups.push(() => socket?.destroy());
  return {
    port: (server.address() as net.AddressInfo).port,
    blocks,
    sendSettings(...frames) {
      acksWanted += frames.length;
      const acked = new Promise<void>((resolve) => {
        onAcks = resolve;
      });
      socket!.write(Buffer.concat(frames));
      return acked;
    },
  };
}

/** Connects node's client and waits for the server's SETTINGS, so its encoder knows them. */
async function connect(port: number): Promise<http2.ClientHttp2Session> {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  cleanups.push(() => client.destroy());
  await new Promise<void>((resolve, reject) => {
    client.once('remoteSettings', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Sends one request; resolves when the server has decoded its header block and answered. */
function request(client: http2.ClientHttp2Session, headers: Headers): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: true });
    req.on('response', () => {
      req.resume();
      resolve();
    });
    req.on('error', reject);
  });
}

/** The fields node sends for `headers`: pseudo-headers first (in its own order), then ours in order. */
function expectSent(fields: Field[], headers: Headers, port: number): void {
  const pseudo: Record<string, string> = { ':method': 'GET', ':scheme': 'http', ':authority': `127.0.0.1:${port}` };
  pseudo[':path'] = '/';
  // Given a host header, node sends no :authority.
  if ('host' in headers) delete pseudo[':authority'];
  const regular: Field[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':')) pseudo[name] = value as string;
    else for (const v of Array.isArray(value) ? value : [value]) regular.push([name, v]);
  }
  const nPseudo = Object.keys(pseudo).length;
  expect(Object.fromEntries(fields.slice(0, nPseudo))).toEqual(pseudo);
  expect(fields.slice(nPseudo)).toEqual(regular);
}

/** `n` latin1 characters from `alphabet`, picked by `rand`. */
function randomText(rand: () => number, n: number, alphabet: string): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}
const TOKEN = 'abcdefghijklmnopqrstuvwxyz0123456789-_.~';
// What node lets through in a header value: tab, 0x20–0x7e, 0x80–0xff.
const VALUE_OCTETS = [
  0x09,
  ...Array.from({ length: 0x5f }, (_, i) => 0x20 + i),
  ...Array.from({ length: 0x80 }, (_, i) => 0x80 + i),
];
const ANY_VALUE = String.fromCharCode(...VALUE_OCTETS);

describe('HpackDecoder against nghttp2 (node:http2 client)', () => {
  it('decodes many requests on one connection: table hits, incremental indexing, Huffman, evictions', async () => {
    const cap = await startCapture(new HpackDecoder());
    const client = await connect(cap.port);
    const rand = prng(1);
    const sent: Headers[] = [];
    for (let i = 0; i < 120; i++) {
      const headers: Headers = {
        ':method': 'POST',
        ':path': `/ratelimit.v3.RateLimitService/${i % 3 ? 'ShouldRateLimit' : 'Check'}`,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${1 + (i % 7)}m`,
        'user-agent': 'grpc-node-js/1.14.7',
        'x-request-id': randomText(rand, 36, TOKEN),
        'x-tenant': `tenant-${i % 5}`,
      };
      // Now and then, values long enough to evict most of the 4096-octet table.
      if (i % 10 === 3) headers['x-big'] = [randomText(rand, 1000, TOKEN), randomText(rand, 1200, ANY_VALUE)];
      if (i % 4 === 1) headers['x-mixed'] = randomText(rand, 1 + Math.floor(rand() * 200), ANY_VALUE);
      // Above 3/4 of the table nghttp2 stops indexing: a literal without indexing.
      if (i === 50) headers['x-huge'] = randomText(rand, 3500, TOKEN);
      await request(client, headers);
      sent.push(headers);
    }
    // The same request twice: the second time every field but :path (never indexed by
    // nghttp2) is one octet pointing into the table.
    const repeated: Headers = { ...sent[7], 'x-request-id': 'fixed' };
    for (const h of [repeated, repeated]) {
      await request(client, h);
      sent.push(h);
    }
    expect(cap.blocks).toHaveLength(sent.length);
    for (const [i, headers] of sent.entries()) expectSent(cap.blocks[i].fields, headers, cap.port);
    // x-huge as a literal without indexing (0x00) with a Huffman-coded 5-octet name (0x85).
    expect(cap.blocks[50].block.indexOf(Buffer.from([0x00, 0x85]))).toBeGreaterThan(0);
    const last = cap.blocks.at(-1)!;
    expect(last.block.length).toBeLessThanOrEqual(last.fields.length + 2 + (repeated[':path'] as string).length);
  });

  it('decodes many distinct ~1000-octet values: continual evictions', async () => {
    const cap = await startCapture(new HpackDecoder());
    const client = await connect(cap.port);
    const rand = prng(2);
    const sent: Headers[] = [];
    for (let i = 0; i < 40; i++) {
      const headers: Headers = {};
      for (let j = 0; j < 3; j++)
        headers[`x-v${(i + j) % 4}`] = randomText(rand, 900 + Math.floor(rand() * 200), TOKEN);
      // And repeats of an older value, a hit or a miss depending on what was evicted.
      if (i >= 2) headers['x-again'] = (sent[i - 2][`x-v${i % 4}`] as string | undefined) ?? 'none';
      await request(client, headers);
      sent.push(headers);
    }
    for (const [i, headers] of sent.entries()) expectSent(cap.blocks[i].fields, headers, cap.port);
  });

  it("decodes every octet a value may carry, each in nghttp2's Huffman code", async () => {
    const cap = await startCapture(new HpackDecoder());
    const client = await connect(cap.port);
    const sent: Headers[] = [];
    // Each octet between runs of 'e' (a 5-bit code), so Huffman is the shorter form nghttp2 picks.
    for (let first = 0; first < VALUE_OCTETS.length; first += 64) {
      const headers: Headers = {};
      for (const o of VALUE_OCTETS.slice(first, first + 64)) {
        headers[`x-octet-${o.toString(16)}`] = `${'e'.repeat(40)}${String.fromCharCode(o)}${'e'.repeat(40)}`;
      }
      await request(client, headers);
      sent.push(headers);
    }
    // One block larger than a frame: HEADERS + CONTINUATION.
    const big: Headers = { 'x-long': [ANY_VALUE.repeat(40), 'e'.repeat(20_000)] };
    await request(client, big);
    sent.push(big);
    for (const [i, headers] of sent.entries()) expectSent(cap.blocks[i].fields, headers, cap.port);
    expect(cap.blocks.at(-1)!.frames).toBeGreaterThan(1);
    for (const [i, headers] of sent.slice(0, -1).entries()) {
      const { block } = cap.blocks[i];
      for (const value of Object.values(headers)) {
        // Sent Huffman-coded: the raw octets are nowhere in the block.
        expect(block.indexOf(Buffer.from(value as string, 'latin1'))).toBe(-1);
      }
    }
  });

  it("agrees with nghttp2's static table: every name a request may carry, exact values indexed", async () => {
    const cap = await startCapture(new HpackDecoder());
    const client = await connect(cap.port);
    // RFC 7541 Appendix A's regular names (transfer-encoding left out: node refuses it).
    const names =
      'accept-charset accept-encoding accept-language accept-ranges accept access-control-allow-origin age allow ' +
      'authorization cache-control content-disposition content-encoding content-language content-length ' +
      'content-location content-range content-type cookie date etag expect expires from host if-match ' +
      'if-modified-since if-none-match if-range if-unmodified-since last-modified link location max-forwards ' +
      'proxy-authenticate proxy-authorization range referer refresh retry-after server set-cookie ' +
      'strict-transport-security user-agent vary via www-authenticate';
    const headers: Headers = { ':path': '/index.html' };
    for (const name of names.split(' ')) headers[name] = name === 'accept-encoding' ? 'gzip, deflate' : 'v';
    await request(client, headers);
    await request(client, { ':method': 'POST', ':path': '/' });
    expectSent(cap.blocks[0].fields, headers, cap.port);
    expectSent(cap.blocks[1].fields, { ':method': 'POST', ':path': '/' }, cap.port);
    // The exact matches went as one-octet static references: :path /index.html (5), accept-encoding (16).
    expect(cap.blocks[0].block.indexOf(Buffer.from([0x85]))).toBeGreaterThanOrEqual(0);
    expect(cap.blocks[0].block.indexOf(Buffer.from([0x90]))).toBeGreaterThan(0);
  });

  it('decodes never-indexed literals (sensitive headers)', async () => {
    const cap = await startCapture(new HpackDecoder());
    const client = await connect(cap.port);
    const headers: Headers = {
      authorization: 'Bearer abc.def',
      'x-secret': 's3cr3t',
      [http2.sensitiveHeaders]: ['x-secret'],
    } as Headers;
    await request(client, headers);
    await request(client, headers);
    for (const { block, fields } of cap.blocks) {
      expect(fields.slice(4)).toEqual([
        ['authorization', 'Bearer abc.def'],
        ['x-secret', 's3cr3t'],
      ]);
      // Never indexed (0001xxxx), in both requests: authorization by its static name index 23
      // (0x1f 0x08), x-secret with a Huffman-coded 6-octet name (0x10 0x86).
      expect(block.indexOf(Buffer.from([0x1f, 0x08]))).toBeGreaterThan(0);
      expect(block.indexOf(Buffer.from([0x10, 0x86]))).toBeGreaterThan(0);
    }
  });

  it('follows dynamic table size updates the client sends after our SETTINGS_HEADER_TABLE_SIZE', async () => {
    const cap = await startCapture(new HpackDecoder(4096));
    const client = await connect(cap.port);
    const headers = (i: number): Headers => ({ 'x-a': `value-${i}`, 'x-b': 'same', 'x-c': 'q'.repeat(100 + i) });
    const sent: Headers[] = [];
    const send = async (i: number) => {
      sent.push(headers(i));
      await request(client, headers(i));
    };
    await send(0);
    await send(1);
    await cap.sendSettings(settingsFrame(0));
    await send(2); // starts with an update to 0
    await send(3);
    await cap.sendSettings(settingsFrame(4096));
    await send(4); // an update to 4096
    await send(5);
    await cap.sendSettings(settingsFrame(100), settingsFrame(4096));
    await send(6); // updates to 100, then 4096
    await send(7);
    for (const [i, h] of sent.entries()) expectSent(cap.blocks[i].fields, h, cap.port);
    // The updates as nghttp2 put them: 0 (20), 4096 (3f e1 1f), 100 (3f 45) then 4096.
    const starts = cap.blocks.map(({ block }) => block.subarray(0, 5).toString('hex'));
    expect(starts[2]).toMatch(/^20/);
    expect(starts[4]).toMatch(/^3fe11f/);
    expect(starts[6]).toBe('3f453fe11f');
    for (const i of [0, 1, 3, 5, 7]) expect(cap.blocks[i].block[0] & 0xe0).not.toBe(0x20);
  });

  it('decodes with a small table of our own (SETTINGS_HEADER_TABLE_SIZE 256 from the start)', async () => {
    const cap = await startCapture(new HpackDecoder(256), settingsFrame(256));
    const client = await connect(cap.port);
    const rand = prng(3);
    const sent: Headers[] = [];
    for (let i = 0; i < 30; i++) {
      const headers: Headers = {
        'x-a': randomText(rand, 20 + (i % 90), TOKEN),
        'x-b': `b${i % 3}`,
        'x-c': 'c'.repeat(i * 5),
      };
      await request(client, headers);
      sent.push(headers);
    }
    for (const [i, h] of sent.entries()) expectSent(cap.blocks[i].fields, h, cap.port);
    expect(cap.blocks[0].block.subarray(0, 3).toString('hex')).toBe('3fe101');
  });
});

// Hand-built blocks.

/** An integer with an N-bit prefix (§5.1); `flags` are the bits above the prefix. */
function int(value: number, prefixBits: number, flags = 0): number[] {
  const max = 2 ** prefixBits - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}
/** A raw string literal. */
const str = (s: string): number[] => [...int(s.length, 7), ...Buffer.from(s, 'latin1')];
/** A Huffman string literal of the given code octets. */
const huff = (bytes: number[]): number[] => [...int(bytes.length, 7, 0x80), ...bytes];
const indexed = (index: number) => int(index, 7, 0x80);
const incremental = (index: number) => int(index, 6, 0x40);
const withoutIndexing = (index: number) => int(index, 4, 0x00);
const neverIndexed = (index: number) => int(index, 4, 0x10);
const sizeUpdate = (size: number) => int(size, 5, 0x20);

function decode(decoder: HpackDecoder, ...parts: number[][]): Field[] {
  const fields: Field[] = [];
  decoder.decode(Uint8Array.from(parts.flat()), (name, value) => fields.push([name, value]));
  return fields;
}

describe('HpackDecoder rules (hand-built blocks)', () => {
  it('decodes the static table, all literal kinds, and indexes into the dynamic table newest first', () => {
    const d = new HpackDecoder();
    expect(decode(d, indexed(1), indexed(2), indexed(16), indexed(61))).toEqual([
      [':authority', ''],
      [':method', 'GET'],
      ['accept-encoding', 'gzip, deflate'],
      ['www-authenticate', ''],
    ]);
    expect(
      decode(
        d,
        incremental(0),
        str('x-one'),
        str('1'),
        incremental(31),
        str('application/grpc'),
        withoutIndexing(0),
        str('x-no'),
        str('n'),
        neverIndexed(4),
        str('/p'),
        neverIndexed(0),
        str('x-never'),
        huff([0x1f]),
      ),
    ).toEqual([
      ['x-one', '1'],
      ['content-type', 'application/grpc'],
      ['x-no', 'n'],
      [':path', '/p'],
      ['x-never', 'a'],
    ]);
    // 62 = newest (content-type), 63 = x-one; literal names from the dynamic table too.
    expect(decode(d, indexed(62), indexed(63), withoutIndexing(63), str('2'))).toEqual([
      ['content-type', 'application/grpc'],
      ['x-one', '1'],
      ['x-one', '2'],
    ]);
    expect(() => decode(d, indexed(64))).toThrow(/index 64/);
  });

  it('evicts the oldest entries, and an entry larger than the table empties it', () => {
    // Room for exactly two entries of 32 + 2 + 6 = 40 octets.
    const d = new HpackDecoder(80);
    const add = (n: string, v: string) => [...incremental(0), ...str(n), ...str(v)];
    decode(d, add('n1', 'value1'), add('n2', 'value2'));
    expect(decode(d, indexed(62), indexed(63))).toEqual([
      ['n2', 'value2'],
      ['n1', 'value1'],
    ]);
    decode(d, add('n3', 'value3'));
    expect(decode(d, indexed(62), indexed(63))).toEqual([
      ['n3', 'value3'],
      ['n2', 'value2'],
    ]);
    expect(() => decode(d, indexed(64))).toThrow(HpackError);
    // 32 + 2 + 47 = 81 > 80: empties the table, is still emitted, but not added.
    expect(decode(d, add('n4', 'x'.repeat(47)))).toEqual([['n4', 'x'.repeat(47)]]);
    expect(() => decode(new HpackDecoder(80), add('n4', 'x'.repeat(47)), indexed(62))).toThrow(HpackError);
    expect(() => decode(d, indexed(62))).toThrow(HpackError);
    // Exactly 80 fits alone.
    expect(decode(d, add('n5', 'y'.repeat(46)), indexed(62))[1]).toEqual(['n5', 'y'.repeat(46)]);
  });

  it('keeps a long history straight across ring wrap-around and growth', () => {
    const d = new HpackDecoder(20_000);
    // The table as it should be, newest first.
    const model: string[] = [];
    let size = 0;
    for (let i = 0; i < 3000; i++) {
      const name = `h${i}`;
      decode(d, incremental(0), str(name), str('v'));
      model.unshift(name);
      size += 32 + name.length + 1;
      while (size > 20_000) size -= 32 + model.pop()!.length + 1;
      // Now and then, read back the newest, the oldest, and a few in between.
      if (i % 37 === 0) {
        for (const k of new Set([0, model.length >> 1, model.length - 1])) {
          expect(decode(d, indexed(62 + k))).toEqual([[model[k], 'v']]);
        }
        expect(() => decode(d, indexed(62 + model.length))).toThrow(HpackError);
      }
    }
    expect(model.length).toBeGreaterThan(500);
  });

  it('applies dynamic table size updates at the start of a block', () => {
    const d = new HpackDecoder(4096);
    decode(d, incremental(0), str('a'), str('1'), incremental(0), str('b'), str('2'));
    // Down to 34 octets: only the newest entry (32 + 2) stays.
    expect(decode(d, sizeUpdate(34), indexed(62))).toEqual([['b', '2']]);
    expect(() => decode(d, indexed(63))).toThrow(HpackError);
    // Two updates in a row (0 then back up): the table is empty, then usable again.
    expect(decode(d, sizeUpdate(0), sizeUpdate(4096), incremental(0), str('c'), str('3'), indexed(62))).toEqual([
      ['c', '3'],
      ['c', '3'],
    ]);
    expect(decode(d, indexed(62))).toEqual([['c', '3']]);
    expect(() => decode(d, indexed(63))).toThrow(HpackError);
    // The largest allowed, with a multi-octet integer.
    expect(decode(d, sizeUpdate(4096))).toEqual([]);
    // A table of 0 holds nothing.
    expect(decode(d, sizeUpdate(0), incremental(0), str('d'), str('4'))).toEqual([['d', '4']]);
    expect(() => decode(d, indexed(62))).toThrow(HpackError);
  });

  it('decodes integers at their prefix boundaries and in several octets', () => {
    const d = new HpackDecoder();
    for (const n of [0, 1, 126, 127, 128, 254, 255, 256, 16_383, 16_384, 70_000]) {
      const value = 'v'.repeat(n);
      expect(decode(d, withoutIndexing(0), str('x'), str(value))).toEqual([['x', value]]);
    }
    // Prefix of 4 bits, all ones then 0: index 15 (static 'accept-encoding').
    expect(decode(d, withoutIndexing(15), str('br'))).toEqual([['accept-charset', 'br']]);
    expect(decode(d, [0x0f, 0x00], str('br'))).toEqual([['accept-charset', 'br']]);
    expect(decode(d, [0x0f, 0x01], str('br'))).toEqual([['accept-encoding', 'br']]);
    // Redundant zero continuation octets, within the length limit.
    expect(decode(d, [0x0f, 0x81, 0x80, 0x00], str('br'))).toEqual([['accept-encoding', 'br']]);
  });
});

describe('HpackDecoder errors', () => {
  const bad: [string, number[][], RegExp][] = [
    ['truncated integer', [[0xff]], /truncated integer/],
    ['truncated integer (continuation bit on the last octet)', [[0x7f, 0xff, 0xff]], /truncated integer/],
    ['integer above 2^30', [int(2 ** 30 + 1, 7, 0x80)], /too large/],
    ['integer encoding too long', [[0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]], /too long/],
    ['string past the end', [withoutIndexing(0), str('name'), [0x05, 0x61, 0x62]], /past the end/],
    ['name string past the end', [withoutIndexing(0), [0x7f, 0x10]], /past the end/],
    ['value missing', [withoutIndexing(1)], /truncated header field/],
    ['index 0', [indexed(0)], /index 0/],
    ['index past the table', [indexed(62)], /index 62/],
    ['literal name index past the table', [incremental(70), str('v')], /index 70/],
    ['size update above the max', [sizeUpdate(4097)], /above our 4096/],
    ['size update after a field', [indexed(2), sizeUpdate(0)], /after a header field/],
    ['Huffman with EOS', [withoutIndexing(0), str('x'), huff([0xff, 0xff, 0xff, 0xfc])], /EOS/],
    ['Huffman with 8+ bits of padding', [withoutIndexing(0), str('x'), huff([0x1f, 0xff])], /more than 7 bits/],
    ['Huffman with padding not all ones', [withoutIndexing(0), str('x'), huff([0x18])], /not all ones/],
    ['Huffman name with bad padding', [incremental(0), huff([0x18]), str('v')], /not all ones/],
  ];
  for (const [what, parts, message] of bad) {
    it(`rejects ${what}`, () => {
      let error: unknown;
      try {
        decode(new HpackDecoder(), ...parts);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(HpackError);
      expect((error as Error).message).toMatch(message);
    });
  }

  it('accepts the largest integer and rejects the constructor misuse', () => {
    // 2^30 as a string length: accepted as an integer, then past the end of the block.
    expect(() => decode(new HpackDecoder(), withoutIndexing(0), int(2 ** 30, 7))).toThrow(/past the end/);
    expect(() => new HpackDecoder(-1)).toThrow(RangeError);
    expect(() => new HpackDecoder(1.5)).toThrow(RangeError);
  });

  it('throws nothing but HpackError on random blocks, and always finishes (seeded fuzz)', () => {
    const rand = prng(0xf022);
    const valid = Uint8Array.from(
      [
        sizeUpdate(100),
        indexed(2),
        incremental(0),
        str('x-key'),
        huff([0x1f]),
        withoutIndexing(4),
        str('/a/b'),
        indexed(62),
        neverIndexed(0),
        str('k'),
        str('v'.repeat(130)),
      ].flat(),
    );
    let shared = new HpackDecoder(256);
    let failures = 0;
    let fields = 0;
    const onHeader = (name: string, value: string) => {
      if (typeof name === 'string' && typeof value === 'string') fields++;
    };
    for (let run = 0; run < 8000; run++) {
      let block: Uint8Array;
      if (run % 2) {
        block = Uint8Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256));
      } else {
        // A valid block cut short, or with one octet changed.
        block = valid.slice();
        if (rand() < 0.25) block = block.subarray(0, Math.floor(rand() * block.length));
        else block[Math.floor(rand() * block.length)] = Math.floor(rand() * 256);
      }
      for (const decoder of [new HpackDecoder(256), shared]) {
        try {
          decoder.decode(block, onHeader);
        } catch (err) {
          if (!(err instanceof HpackError)) throw err;
          failures++;
          if (decoder === shared) shared = new HpackDecoder(256);
        }
      }
    }
    // Both outcomes, plenty of each.
    expect(failures).toBeGreaterThan(6000);
    expect(failures).toBeLessThan(14_000);
    expect(fields).toBeGreaterThan(10_000);
  });
});
