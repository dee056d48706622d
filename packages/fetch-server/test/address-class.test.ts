import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AllowList, classifyAddress } from '../src/index.js';

describe('ssrf: address classifier', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fec0::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['::7f00:1', 'reserved'],
    ['2001::1', 'reserved'],
  ])('rfc6890: %s is %s and never public', (address, range) => {
    const c = classifyAddress(address);
    expect(c.range).toBe(range);
    expect(c.isPublic).toBe(false);
  });

  it.each(['169.254.169.254', '169.254.170.2', '168.63.129.16', '100.100.100.200', 'fd00:ec2::254'])(
    'cloud metadata endpoint %s is classified as cloudMetadata',
    (address) => {
      expect(classifyAddress(address)).toMatchObject({ range: 'cloudMetadata', isPublic: false });
    },
  );

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001::200e'])(
    'global unicast %s is public',
    (address) => {
      expect(classifyAddress(address)).toMatchObject({ range: 'public', isPublic: true });
    },
  );

  it.each([
    ['::ffff:127.0.0.1', 'loopback', 'ipv4Mapped', '127.0.0.1'],
    ['::ffff:7f00:1', 'loopback', 'ipv4Mapped', '127.0.0.1'],
    ['[::ffff:10.0.0.1]', 'private', 'ipv4Mapped', '10.0.0.1'],
    ['::ffff:169.254.169.254', 'cloudMetadata', 'ipv4Mapped', '169.254.169.254'],
    ['::ffff:0:192.168.0.1', 'private', 'ipv4Translated', '192.168.0.1'],
    ['2002:7f00:1::', 'loopback', '6to4', '127.0.0.1'],
    ['2002:a9fe:a9fe::1', 'cloudMetadata', '6to4', '169.254.169.254'],
    ['64:ff9b::a00:1', 'private', 'nat64', '10.0.0.1'],
    ['64:ff9b::7f00:1', 'loopback', 'nat64', '127.0.0.1'],
  ])('ipv6 embedding: %s is judged by its IPv4 address (%s)', (address, range, via, inner) => {
    expect(classifyAddress(address)).toMatchObject({
      range,
      isPublic: false,
      embeddedVia: via,
      embedded: inner,
    });
  });

  it('ipv6 embedding: a public IPv4 inside an IPv4-mapped address stays public', () => {
    expect(classifyAddress('::ffff:8.8.8.8')).toMatchObject({
      range: 'public',
      isPublic: true,
      embeddedVia: 'ipv4Mapped',
    });
  });

  it('ipv6 NAT64 local-use prefix 64:ff9b:1::/48 is reserved', () => {
    expect(classifyAddress('64:ff9b:1::808:808')).toMatchObject({ range: 'reserved', isPublic: false });
  });

  it.each(['not-an-ip', '', '1.2.3', '0x7f.1', '2130706433', 'fe80::1%eth0'])(
    'unparseable, legacy-form or zoned input %j is never public',
    (input) => {
      expect(classifyAddress(input).isPublic).toBe(false);
    },
  );
});

describe('ssrf: address classifier reads only canonical text', () => {
  it.each([
    '1.2.3.4',
    '0.0.0.0',
    '01.2.3.4',
    '00.0.0.0',
    '1.2.3',
    '1.2.3.256',
    '0x7f.0.0.1',
    '2130706433',
    '1.2.3.4 ',
    ' ::1',
    '::1',
    '::FFFF:1.2.3.4',
    '::ffff:1.2.3',
    '::ffff:01.2.3.4',
    '::ffff:0x7f.0.0.1',
    '::ffff:256.1.1.1',
    '2001:db8::1.2.3.4',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
  ])('%j is invalid exactly when node:net isIP refuses it', (input) => {
    expect(classifyAddress(input).range === 'invalid').toBe(isIP(input) === 0);
  });
});

describe('ssrf: allow-list', () => {
  const list = new AllowList([
    'Intranet.Example',
    '*.corp.example',
    '127.0.0.1',
    '10.0.0.0/8',
    '[::1]',
    'fd00::/8',
  ]);

  it('host names match exactly (case-insensitive) or by *.suffix', () => {
    expect(list.allowsHost('intranet.example')).toBe(true);
    expect(list.allowsHost('INTRANET.example.')).toBe(true);
    expect(list.allowsHost('a.b.corp.example')).toBe(true);
    expect(list.allowsHost('corp.example')).toBe(false);
    expect(list.allowsHost('evil-intranet.example')).toBe(false);
    expect(list.allowsHost('intranet.example.evil')).toBe(false);
  });

  it('IPs and CIDRs match addresses, IPv4 entries also match their IPv4-mapped form', () => {
    expect(list.allowsAddress('127.0.0.1')).toBe(true);
    expect(list.allowsAddress('127.0.0.2')).toBe(false);
    expect(list.allowsAddress('10.200.0.1')).toBe(true);
    expect(list.allowsAddress('::ffff:10.200.0.1')).toBe(true);
    expect(list.allowsAddress('::1')).toBe(true);
    expect(list.allowsAddress('fd12::1')).toBe(true);
    expect(list.allowsAddress('192.168.0.1')).toBe(false);
  });

  it.each(['10.0.0.0/99', 'not a host!', 'http://x/'])(
    'rejects malformed entry %j with a TypeError',
    (entry) => {
      expect(() => new AllowList([entry])).toThrow(TypeError);
    },
  );
});
