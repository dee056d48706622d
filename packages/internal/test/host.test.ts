// Host names as the HTTP edges check them (packages/internal, inlined into each package).
import { describe, expect, it } from 'vitest';
import { hostnameOf, isLoopbackHost } from '../src/host.js';

describe('host names', () => {
  it.each([
    ['[::1]:3000', '::1'],
    ['[::1]', '::1'],
    ['LocalHost:80', 'localhost'],
    ['example.com', 'example.com'],
    [' 127.0.0.1:8080 ', '127.0.0.1'],
  ])('hostnameOf(%s) = %s: port and IPv6 brackets dropped, lower-cased', (host, name) => {
    expect(hostnameOf(host)).toBe(name);
  });

  it('loopback is localhost, 127.0.0.0/8 and ::1, bracketed or not; look-alikes are not', () => {
    expect(['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(
      ['localhost.evil.example', '128.0.0.1', '0.0.0.0', '127.0.0.1.evil', '', '[::2]'].some(isLoopbackHost),
    ).toBe(false);
  });
});
