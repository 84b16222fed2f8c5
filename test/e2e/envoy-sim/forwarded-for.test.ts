import { describe, expect, it } from 'vitest';
import { type ClientAddressConfig, clientAddress, isInternalAddress, lastAddressFromXff } from './forwarded-for.js';

const legacy = { explicitConfig: false };
const cfg = (over: Partial<ClientAddressConfig> = {}): ClientAddressConfig => ({
  useRemoteAddress: true,
  xffNumTrustedHops: 0,
  skipXffAppend: false,
  internal: legacy,
  ...over,
});

describe("Envoy's getLastAddressFromXFF", () => {
  it('takes the last address, skipping numToSkip from the right', () => {
    expect(lastAddressFromXff('1.1.1.1, 2.2.2.2,3.3.3.3', 0)).toEqual({ address: '3.3.3.3', singleAddress: false });
    expect(lastAddressFromXff('1.1.1.1, 2.2.2.2,3.3.3.3', 1)).toEqual({ address: '2.2.2.2', singleAddress: false });
    expect(lastAddressFromXff('1.1.1.1, 2.2.2.2,3.3.3.3', 2)).toEqual({ address: '1.1.1.1', singleAddress: false });
    expect(lastAddressFromXff('1.1.1.1', 1)).toEqual({ singleAddress: false });
    expect(lastAddressFromXff(' 1.1.1.1 ', 0)).toEqual({ address: '1.1.1.1', singleAddress: true });
    expect(lastAddressFromXff('2001:db8::1', 0).address).toBe('2001:db8::1');
  });
  it('gives nothing for a missing header, a non-IP entry or a trailing comma', () => {
    expect(lastAddressFromXff(undefined, 0)).toEqual({ singleAddress: false });
    expect(lastAddressFromXff('unknown', 0)).toEqual({ singleAddress: false });
    expect(lastAddressFromXff('1.1.1.1,', 0)).toEqual({ singleAddress: false });
  });
});

describe('the downstream client address (use_remote_address)', () => {
  it('with 0 trusted hops is the TCP peer, whatever X-Forwarded-For says', () => {
    const c = clientAddress('203.0.113.5', '198.51.100.1', cfg());
    expect(c).toMatchObject({
      remoteAddress: '203.0.113.5',
      xff: '198.51.100.1,203.0.113.5',
      edge: true,
      internal: false,
    });
  });

  it('with N trusted hops is the Nth address from the right of the XFF received', () => {
    expect(clientAddress('10.0.0.9', '198.51.100.1, 192.0.2.7', cfg({ xffNumTrustedHops: 1 })).remoteAddress).toBe(
      '192.0.2.7',
    );
    expect(clientAddress('10.0.0.9', '198.51.100.1, 192.0.2.7', cfg({ xffNumTrustedHops: 2 })).remoteAddress).toBe(
      '198.51.100.1',
    );
  });

  it('falls back to the peer when XFF is too short or not an address', () => {
    expect(clientAddress('10.0.0.9', '192.0.2.7', cfg({ xffNumTrustedHops: 2 })).remoteAddress).toBe('10.0.0.9');
    expect(clientAddress('10.0.0.9', 'bogus', cfg({ xffNumTrustedHops: 1 })).remoteAddress).toBe('10.0.0.9');
    expect(clientAddress('10.0.0.9', undefined, cfg({ xffNumTrustedHops: 1 })).remoteAddress).toBe('10.0.0.9');
  });

  it('is internal only without XFF and from an internal peer (RFC 1918 by default)', () => {
    expect(clientAddress('10.0.0.1', undefined, cfg({ xffNumTrustedHops: 1 }))).toMatchObject({
      internal: true,
      edge: false,
      xff: '10.0.0.1',
    });
    expect(clientAddress('10.0.0.1', '10.0.0.2', cfg({ xffNumTrustedHops: 1 })).internal).toBe(false);
    expect(clientAddress('203.0.113.1', undefined, cfg()).internal).toBe(false);
  });

  it('trusts nothing with explicit_internal_address_config, or only internal_address_config cidr_ranges', () => {
    expect(clientAddress('10.0.0.1', undefined, cfg({ internal: { explicitConfig: true } })).internal).toBe(false);
    const ranges = { explicitConfig: true, cidrRanges: [{ prefix: '100.64.0.0', len: 10 }] };
    expect(isInternalAddress('100.64.1.1', ranges)).toBe(true);
    expect(isInternalAddress('10.0.0.1', ranges)).toBe(false);
  });

  it('knows the legacy internal ranges', () => {
    for (const ip of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '127.0.0.1', 'fd00::1', '::1'])
      expect(isInternalAddress(ip, legacy), ip).toBe(true);
    for (const ip of ['172.32.0.1', '192.0.2.1', '127.0.0.2', 'fc00::1', '2001:db8::1'])
      expect(isInternalAddress(ip, legacy), ip).toBe(false);
  });

  it('without use_remote_address reads the client from XFF and does not append', () => {
    const c = clientAddress('10.0.0.9', '192.0.2.7', cfg({ useRemoteAddress: false }));
    expect(c).toEqual({ remoteAddress: '192.0.2.7', internal: false, edge: false, xff: undefined });
    expect(clientAddress('10.0.0.9', '10.1.1.1', cfg({ useRemoteAddress: false })).internal).toBe(true);
    expect(clientAddress('10.0.0.9', undefined, cfg({ useRemoteAddress: false })).remoteAddress).toBe('10.0.0.9');
  });
});
