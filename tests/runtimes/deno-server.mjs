/* global Deno */
// Deno: Deno.serve with the peer address from info.remoteAddr.
import { createApp } from './as-app.ts';

const port = Number(Deno.env.get('PORT'));
const app = createApp({ ISSUER: `http://127.0.0.1:${port}`, PASSWORD_HASH: Deno.env.get('PASSWORD_HASH') });
Deno.serve(
  {
    hostname: '127.0.0.1',
    port,
    onListen: ({ port: p }) => console.log(`runtime ${Deno.version.deno} listening on http://127.0.0.1:${p}`),
  },
  (request, info) => app(request, { remoteAddress: info.remoteAddr.hostname }),
);
