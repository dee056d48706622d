/* global Bun */
// Bun: Bun.serve with the peer address from server.requestIP().
import { createApp } from './as-app.ts';

const port = Number(process.env.PORT);
const app = createApp({ ISSUER: `http://127.0.0.1:${port}`, PASSWORD_HASH: process.env.PASSWORD_HASH });
const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch: (request, srv) => app(request, { remoteAddress: srv.requestIP(request)?.address }),
});
console.log(`runtime ${Bun.version} listening on ${server.url}`);
