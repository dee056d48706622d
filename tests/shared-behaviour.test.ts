// The modules every package must get the same (address classifier, JSON-RPC code table, …) live once
// in the private @mcp-gateway/internal package, inlined into each package at build time. These
// tables run against the built packages' public exports, so each package's copy is checked as
// npm ships it.
import { classifyAddress as fetchServerClassify } from '@mcp-gateway/fetch-server';
import { JsonRpcCode as gatewayCodes } from '@mcp-gateway/gateway-kit';
import { isAddressAllowed } from '@mcp-gateway/oauth-dynamicclient';
import { JsonRpcCode as bridgeCodes } from '@mcp-gateway/streamablehttp-proxy';
import { describe, expect, it } from 'vitest';

describe('one SSRF verdict: oauth-dynamicclient and fetch-server refuse the same addresses', () => {
  it.each([
    ['8.8.8.8', true],
    ['2606:4700:4700::1111', true],
    ['::ffff:8.8.8.8', true],
    ['127.0.0.1', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false],
    ['10.0.0.1', false],
    ['192.168.1.1', false],
    ['100.64.0.1', false],
    ['fc00::1', false],
    ['169.254.169.254', false],
    ['169.254.170.2', false],
    ['168.63.129.16', false],
    ['100.100.100.200', false],
    ['fd00:ec2::254', false],
    ['fe80::1%eth0', false],
    ['0.0.0.0', false],
    ['255.255.255.255', false],
    ['224.0.0.1', false],
    ['192.0.2.1', false],
    ['2001:db8::1', false],
    ['2002:7f00:1::', false],
    ['64:ff9b::a00:1', false],
    ['2001::1', false],
    ['0x7f.0.0.1', false],
    ['2130706433', false],
    ['not-an-ip', false],
  ])('%s: public = %s in both', (address, expected) => {
    expect(fetchServerClassify(address).isPublic).toBe(expected);
    expect(isAddressAllowed(address)).toBe(expected);
  });
});

describe('one JSON-RPC error code table: the gateway and the bridge mean the same by each code', () => {
  it('a backend that fails is -32000 and one past its deadline -32001 in both', () => {
    expect([gatewayCodes.BackendUnavailable, bridgeCodes.ServerError]).toEqual([-32000, -32000]);
    expect([gatewayCodes.BackendTimeout, bridgeCodes.RequestTimeout]).toEqual([-32001, -32001]);
  });

  it('every name the two tables share has one code', () => {
    const shared = Object.keys(gatewayCodes).filter((name) => name in bridgeCodes);
    expect(shared.length).toBeGreaterThan(0);
    for (const name of shared) {
      expect([name, gatewayCodes[name as keyof typeof gatewayCodes]]).toEqual([
        name,
        bridgeCodes[name as keyof typeof bridgeCodes],
      ]);
    }
  });
});
