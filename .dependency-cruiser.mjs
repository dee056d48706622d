// dependency-cruiser rules for the monorepo, run by `npm run lint` (so by `npm test`).
// Two kinds of rule: no import cycles anywhere, and the package arrows of shared/DESIGN.md:
// gateway-kit composes the four leaf packages; the leaves import nothing of each other or of
// gateway-kit; testkit and test code are for tests only; the private `internal` package (inlined
// into each package at build time) is imported by any package and imports none.
// Paths are relative to the folder depcruise runs in (the repo root; tests/depcruise.test.ts
// runs the same rules in a fixture folder laid out the same way).

/** The four published packages that gateway-kit composes. */
const LEAVES = ['oauth-dynamicclient', 'streamablehttp-proxy', 'streamablehttp-client', 'fetch-server'];

/**
 * A path pattern that matches a workspace package however it is reached: by a relative path into
 * its folder, through its node_modules link (resolved or not), or unresolved by its name.
 */
const pkg = (name) =>
  `(^|/)packages/${name}/|(^|/)node_modules/@mcp-gateway/${name}(/|$)|^@mcp-gateway/${name}(/|$)`;

/** Test code: package test folders, the repo's tests/ workspace and the private testkit. */
const TEST_CODE = `^packages/[^/]+/test/|^tests/|${pkg('testkit')}`;

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: move the shared part into a module of its own that both sides import.',
      from: {},
      to: { circular: true },
    },
    ...LEAVES.map((leaf) => ({
      name: `leaf-imports-no-package:${leaf}`,
      severity: 'error',
      comment: `${leaf} is a leaf package: it imports neither gateway-kit nor another leaf (only gateway-kit composes them).`,
      from: { path: `^packages/${leaf}/` },
      to: { path: ['gateway-kit', ...LEAVES.filter((other) => other !== leaf)].map(pkg) },
    })),
    {
      name: 'src-imports-no-test-code',
      severity: 'error',
      comment:
        'Shipped code (packages/*/src) never imports tests, the tests/ workspace or the private testkit.',
      from: { path: '^packages/(?!testkit/)[^/]+/src/' },
      to: { path: TEST_CODE },
    },
    {
      name: 'testkit-imports-no-package',
      severity: 'error',
      comment:
        "testkit is imported by every package's tests, so it imports none of them (no package-level cycle).",
      from: { path: '^packages/testkit/' },
      to: { path: ['gateway-kit', ...LEAVES].map(pkg) },
    },
    {
      name: 'internal-imports-no-package',
      severity: 'error',
      comment:
        'internal is inlined into every package at build time, so it imports none of them (and no test code).',
      from: { path: '^packages/internal/' },
      to: { path: ['gateway-kit', 'testkit', ...LEAVES].map(pkg) },
    },
    {
      name: 'gateway-kit-src-imports-only-leaves',
      severity: 'error',
      comment: 'gateway-kit imports the four leaf packages by their package name, never their files.',
      from: { path: '^packages/gateway-kit/src/' },
      to: { path: '^packages/(?!gateway-kit/|internal/)[^/]+/src/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules|(^|/)dist/' },
    // Cruise from the source roots that the lint script names; dist/ is reached only as the
    // target of a package import, so the arrow rules still see it.
    exclude: { path: '(^|/)(coverage|\\.turbo|test-artifacts)/' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
  },
};
