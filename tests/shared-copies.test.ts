// Packages do not import each other (see .dependency-cruiser.mjs), so the few modules that must
// behave the same everywhere are kept as copies. These tests prove the copies identical and run one
// table against every package that ships one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { classifyAddress as fetchServerClassify } from '@mcp-gateway/fetch-server';
import { JsonRpcCode as gatewayCodes } from '@mcp-gateway/gateway-kit';
import { isAddressAllowed } from '@mcp-gateway/oauth-dynamicclient';
import { JsonRpcCode as bridgeCodes } from '@mcp-gateway/streamablehttp-proxy';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

/** Each group: files that must stay byte-identical (edit one, copy it over the others). */
const COPIES: Record<string, string[]> = {
  'address classifier': [
    'packages/fetch-server/src/ssrf/address-class.ts',
    'packages/oauth-dynamicclient/src/clients/address-class.ts',
  ],
  'MCP 2026-07-28 _meta keys': [
    'packages/streamablehttp-proxy/src/mcp-meta-keys.ts',
    'packages/streamablehttp-client/src/protocol/mcp-meta-keys.ts',
  ],
  'JSON-RPC error code table': [
    'packages/gateway-kit/src/jsonrpc-error-codes.ts',
    'packages/streamablehttp-proxy/src/jsonrpc-error-codes.ts',
    'packages/fetch-server/src/http/jsonrpc-error-codes.ts',
  ],
};

describe('shared copies', () => {
  it.each(Object.entries(COPIES))('the %s copies are byte-identical', (_name, files) => {
    const [first, ...rest] = files.map((file) => readFileSync(path.join(root, file), 'utf8'));
    for (const text of rest) expect(text).toBe(first);
  });
});

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
