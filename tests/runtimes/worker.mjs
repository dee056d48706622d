/* global Response */
// Cloudflare Workers (workerd): no peer address, so the app is given a
// rateLimitSource header (env.RATE_LIMIT_HEADER) or must fail to start.
import { createApp } from './as-app.ts';

let app;
export default {
  async fetch(request, env) {
    try {
      app ??= createApp(env);
      return await app(request);
    } catch (err) {
      return new Response(String(err), { status: 500 });
    }
  },
};
