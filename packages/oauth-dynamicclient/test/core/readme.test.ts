import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaults, dpopDefaults, machineDefaults } from '../../src/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README options table', () => {
  const keys = [
    ...['maxBodyBytes', 'metadataMaxAgeSeconds', 'trustProxyHops', 'rateLimits', 'cors.origins'],
    'clientReapIntervalMs',
    ...Object.keys(defaults.registration).map((k) => `registration.${k}`),
    ...Object.keys(defaults.cimd).map((k) => `cimd.${k}`),
    ...Object.keys(machineDefaults.grants).map((k) => `grants.${k}`),
    ...Object.keys(machineDefaults.assertions).map((k) => `assertions.${k}`),
    ...Object.keys(machineDefaults.remoteJwks).map((k) => `remoteJwks.${k}`),
    'trustedIdps',
    'workloadIssuers',
    ...Object.keys(dpopDefaults.dpop).map((k) => `dpop.${k}`),
    'dpop.algorithms',
  ];
  it.each(keys)('documents the core option %s', (key) => {
    expect(readme).toContain(`| \`${key}\``);
  });
});
