export { listen, listenNode, type Listening, type FetchHandler } from './listen.js';
export { waitForUrl, waitFor } from './wait.js';
export { abandonMidBody } from './abandon.js';
export { spawnCli, killAllSpawned, isPidAlive, type SpawnedCli } from './spawn-cli.js';
export {
  fixtureMcpServerPath,
  fixtureMcpServerCommand,
  conformanceEverythingServerPath,
  conformanceEverythingServerCommand,
  conformanceEverythingServer2026Path,
  conformanceEverythingServer2026Command,
} from './fixture.js';
export {
  startGitHubStub,
  type GitHubStub,
  type GitHubStubOptions,
  type GitHubStubUser,
  type GitHubStubClient,
  type GitHubStubCode,
  type GitHubStubToken,
  type GitHubStubEndpoint,
} from './github-stub.js';
export {
  startOidcStub,
  type OidcStub,
  type OidcStubOptions,
  type OidcStubUser,
  type OidcStubClient,
  type OidcStubCode,
  type OidcStubToken,
  type OidcStubEndpoint,
  type OidcStubFaults,
  type OidcIdTokenFault,
} from './oidc-stub.js';
export type { StubFaults, StubRequestLog } from './idp-stub-shared.js';
export {
  startEnterpriseIdpStub,
  TOKEN_EXCHANGE_GRANT,
  ID_JAG_TOKEN_TYPE,
  ID_TOKEN_TYPE,
  type EnterpriseIdpStub,
  type EnterpriseIdpStubOptions,
  type EnterpriseIdpClient,
  type IssuedJag,
} from './enterprise-idp-stub.js';
export { startRedis, freePort, type RedisServer } from './redis.js';
export { chromiumLaunchOptions } from './chromium.js';
export { storeContract, type ContractStore, type ContractStoreFactory } from './store-contract.js';
export { parseWwwAuthenticate, challengeParams, type ParsedChallenge } from './www-authenticate.js';
export { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
export {
  MCP_2026,
  envelope2026,
  request2026,
  type Request2026,
  type Request2026Options,
} from './mcp-2026.js';
export { rawInitialize, rawSession } from './mcp-2025.js';
export { eventStreamResponse } from './event-stream.js';
