/**
 * The MCP conformance suite's reference "everything-server", ported to stdio, so the suite's server
 * scenarios can run against a stdio server behind our bridge (`mcp-streamablehttp-proxy`) and the
 * gateway. Run it as a child process: `node dist/conformance-everything-server.js`.
 *
 * Source: github.com/modelcontextprotocol/conformance, tag v0.1.16 (commit
 * 21a9a2febd7100d7c17ac1021ee7f2ed9f66a1e0), `examples/servers/typescript/everything-server.ts`.
 * Licence: MIT (the package `@modelcontextprotocol/conformance` 0.1.16 is published under MIT; the
 * repository is moving to Apache-2.0, which our project uses). The file is not shipped in the npm
 * package, hence this copy.
 *
 * What differs from the original, and why:
 * - Transport: `StdioServerTransport` instead of the express app with `StreamableHTTPServerTransport`
 *   and its in-memory event store. Sessions, SSE, resumability and DNS-rebinding protection are the
 *   job of whatever serves this child over HTTP (the bridge), which is what the scenarios test.
 *   One process serves one session, so the module-level state is per session, as in the original.
 * - `test_reconnection` cannot close the HTTP stream (a stdio server has none); it answers after the
 *   same 100 ms pause. The scenario `server-sse-polling` treats an answer on the POST stream as
 *   informational.
 * - Nothing is written to stdout but protocol messages (the original `console.log`s go to stderr).
 * - `test_sampling` validates the answer with `CreateMessageResultSchema` (the original passes a
 *   schema that expects a `method` field in the result and so always reports an error text; the
 *   scenario only checks that sampling was requested).
 * - `test_simple_text` uses `registerTool` like the other tools (the original's `tool()` works
 *   around a logging bug that does not concern this tool).
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createEverythingServer } from './conformance-everything.js';

await createEverythingServer().connect(new StdioServerTransport());
