export { listen, listenNode, type Listening, type FetchHandler } from './listen.js';
export { waitForUrl, waitFor } from './wait.js';
export { spawnCli, killAllSpawned, isPidAlive, type SpawnedCli } from './spawn-cli.js';
export { fixtureMcpServerPath, fixtureMcpServerCommand } from './fixture.js';
