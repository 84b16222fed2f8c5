import { describe, expect, it } from 'vitest';
import { HeaderList } from './header-list.js';

const NO_BYTES = new Uint8Array(0);

function list(entries: [string, string][]): HeaderList {
  const h = new HeaderList(NO_BYTES);
  for (const [k, v] of entries) h.add(k, v);
  return h;
}

describe('HeaderList', () => {
  const h = list([
    ['x-api-key', 'first'],
    [':path', '/v1/models'],
    ['x-api-key', 'last'],
    ['user-agent', 'sdk'],
  ]);

  it('finds a name with the value of its last entry, as a protobuf map keeps it', () => {
    expect(h.get('x-api-key')).toEqual(['last']);
    expect(h.get(':path')).toEqual(['/v1/models']);
  });

  it('finds nothing for a name it does not hold (names are compared exactly)', () => {
    expect(h.get('authorization')).toBeUndefined();
    expect(h.get('X-Api-Key')).toBeUndefined();
    expect(new HeaderList(NO_BYTES).get('x-api-key')).toBeUndefined();
  });

  it('lists its entries as a map: each name once, at its first place, with its last value', () => {
    expect([...h]).toEqual([
      ['x-api-key', ['last']],
      [':path', ['/v1/models']],
      ['user-agent', ['sdk']],
    ]);
    expect(h.toMap()).toEqual(new Map([...h]));
  });

  it('hands out arrays of its own: a caller changing one changes nothing here', () => {
    (h.get('user-agent') as string[]).push('other');
    expect(h.get('user-agent')).toEqual(['sdk']);
  });

  it('reads a value kept as octets of the request when asked, mixed with decoded ones', () => {
    const bytes = Buffer.from('....application/grpc....trailers');
    const mixed = new HeaderList(bytes);
    mixed.addAscii('content-type', 4, 20);
    mixed.add('x-name', 'caf\u00e9');
    mixed.addAscii('te', 24, 32);
    mixed.addAscii('empty', 3, 3);
    mixed.addAscii('x-name', 0, 4); // a later entry of a key wins, whatever its kind
    expect(mixed.get('content-type')).toEqual(['application/grpc']);
    expect(mixed.get('te')).toEqual(['trailers']);
    expect(mixed.get('empty')).toEqual(['']);
    expect(mixed.get('x-name')).toEqual(['....']);
    expect([...mixed].map(([k, v]) => `${k}=${v[0]}`)).toEqual([
      'content-type=application/grpc',
      'x-name=....',
      'te=trailers',
      'empty=',
    ]);
  });
});
