import { defineConfig } from 'vitest/config';

// One vitest run for the whole repo: each package is a project, so `npm test`
// prints one summary and `npm test -- --project <name>` narrows it.
const pkg = (name: string, extra: Record<string, unknown> = {}) => ({
  test: {
    name,
    root: `packages/${name}`,
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    ...extra,
  },
});

export default defineConfig({
  test: {
    // Two test files at a time: vitest's default on a 2-core machine is one (cores − 1), and most
    // files spend their time waiting on real servers and child processes, not on the CPU.
    maxWorkers: 2,
    projects: [
      pkg('internal'),
      pkg('testkit'),
      pkg('oauth-dynamicclient'),
      pkg('streamablehttp-proxy'),
      pkg('streamablehttp-client'),
      // The tool converts HTML in dist/html-worker.js: built first when stale.
      pkg('fetch-server', { globalSetup: ['test/helpers/global-setup.ts'] }),
      pkg('gateway-kit'),
      {
        test: {
          // The official MCP conformance suite (runs under a pinned Node 22; see conformance/README.md).
          name: 'conformance',
          root: 'conformance',
          include: ['test/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          root: 'tests',
          include: ['**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
