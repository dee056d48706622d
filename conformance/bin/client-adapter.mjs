#!/usr/bin/env node
// Maps the MCP conformance suite's client conventions onto mcp-streamablehttp-client.
//
// The suite runs `<command> <server-url>` with MCP_CONFORMANCE_SCENARIO (the scenario
// name) and, for some scenarios, MCP_CONFORMANCE_CONTEXT (JSON: pre-registered client
// credentials, a private key, the enterprise IdP's settings). This adapter picks what a
// user of the CLI would run for that scenario, saves the context as the CLI's
// --client-credentials-file (its field names are the context's), picks the grant
// (client-credentials for SEP-1046, id-jag when an IdP ID token is given, the workload's
// JWT in a --workload-token file when a valid_jwt is given (SEP-1933), else the browser flow;
// DPoP is the CLI's default where the server advertises it), gives it a fresh credentials folder, and plays the browser: the
// suite's authorization endpoints approve at once, so it follows the sign-in URL the
// CLI prints (`--no-browser`) through its redirects to the CLI's loopback callback.
// It runs on the same Node as the caller (our supported Node 20), never the suite's.
/* global fetch */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../../packages/streamablehttp-client/bin/mcp-streamablehttp-client.js');

const url = process.argv.at(-1);
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {};

/**
 * What a stdio host does through the bridge, per scenario that needs a host (it answers
 * server→client requests, or makes several calls): `request(method, params)` sends one request
 * through the bridge and resolves with its result.
 */
const HOST_PLANS = {
  'elicitation-sep1034-client-defaults': callTools(['test_client_elicitation_defaults']),
  'sse-retry': callTools(['test_reconnection']),
  // SEP-2322: two input_required flows (with and without requestState), an unrelated call
  // between them, and a result without resultType; the host accepts the elicitations.
  'sep-2322-client-request-state': callTools([
    'test_mrtr_echo_state',
    'test_mrtr_unrelated',
    'test_mrtr_no_state',
    'test_mrtr_no_result_type',
  ]),
  // SEP-2243 standard headers: every method that carries Mcp-Method / Mcp-Name.
  'http-standard-headers': async (request) => {
    const { tools } = await request('tools/list', {});
    for (const t of tools) await request('tools/call', { name: t.name, arguments: {} });
    const { resources } = await request('resources/list', {});
    for (const r of resources) await request('resources/read', { uri: r.uri });
    const { prompts } = await request('prompts/list', {});
    for (const p of prompts) await request('prompts/get', { name: p.name });
  },
  // SEP-2243 custom headers: the calls the scenario's context lists.
  'http-custom-headers': async (request) => {
    await request('tools/list', {});
    for (const call of context.toolCalls ?? []) await request('tools/call', call);
  },
  // Every tool the bridge lists (it must have excluded those with invalid x-mcp-header).
  'http-invalid-tool-headers': async (request) => {
    const { tools } = await request('tools/list', {});
    for (const t of tools)
      await request('tools/call', { name: t.name, arguments: sampleArguments(t.inputSchema) });
  },
};

/** A plan that lists the tools and calls each of `names` without arguments. */
function callTools(names) {
  return async (request) => {
    await request('tools/list', {});
    for (const name of names) await request('tools/call', { name, arguments: {} });
  };
}

/** Arguments satisfying a tool's required string properties (what a host's model would fill in). */
function sampleArguments(schema) {
  const props = schema?.properties ?? {};
  return Object.fromEntries(
    (schema?.required ?? [])
      .map((k) => [k, props[k]?.type === 'string' ? 'sample' : null])
      .filter(([, v]) => v !== null),
  );
}

/** What the CLI is asked to do per scenario: the tool the scenario's server checks for. */
function commandFor(name) {
  if (name === 'initialize' || name === 'request-metadata' || name === 'json-schema-ref-no-deref')
    return ['tools', 'list'];
  if (name === 'tools_call') return ['tools', 'call', 'add_numbers', '--args', '{"a":5,"b":3}'];
  if (name in HOST_PLANS) return ['bridge'];
  return ['tools', 'call', 'test-tool'];
}

const home = mkdtempSync(path.join(tmpdir(), 'mcp-conformance-client-'));
const what = commandFor(scenario);
const auth = scenario.startsWith('auth/') ? ['--oauth2', '--no-browser', '--auth-timeout', '20'] : [];
// The Client ID Metadata Document URL the suite's auth/basic-cimd server expects (the one its
// reference client uses); the CLI uses it only where the server advertises CIMD support, and the
// suite's authorization server does not fetch it.
if (auth.length) auth.push('--client-metadata-url', 'https://conformance-test.local/client-metadata.json');
if (auth.length && Object.keys(context).some((k) => k !== 'name')) {
  const file = path.join(home, 'client-credentials.json');
  writeFileSync(file, JSON.stringify(context), { mode: 0o600 });
  auth.push('--client-credentials-file', file);
}
if (scenario.startsWith('auth/client-credentials-')) auth.push('--grant', 'client-credentials');
else if (context.idp_id_token) auth.push('--grant', 'id-jag');
else if (context.valid_jwt) {
  // SEP-1933 workload identity: the platform's JWT, as a workload would find it mounted in a file.
  const tokenFile = path.join(home, 'workload-token.jwt');
  writeFileSync(tokenFile, context.valid_jwt, { mode: 0o600 });
  auth.push('--workload-token', tokenFile);
}
const args = what[0] === 'bridge' ? [cli, '--url', url, ...auth] : [cli, ...what, '--url', url, ...auth];

const child = spawn(process.execPath, args, {
  env: {
    ...process.env,
    MCP_STREAMABLEHTTP_CLIENT_HOME: home,
    XDG_CONFIG_HOME: home,
    MCP_CLIENT_LOG_LEVEL: process.env.MCP_CLIENT_LOG_LEVEL ?? 'info',
  },
  stdio: ['pipe', 'pipe', 'pipe'],
});

let stderr = '';
child.stderr.on('data', (chunk) => {
  process.stderr.write(chunk);
  stderr += chunk.toString();
  const m = /To sign in, open: (\S+)/.exec(stderr);
  if (m) {
    stderr = stderr.slice(m.index + m[0].length);
    playBrowser(m[1]).catch((err) =>
      process.stderr.write(`[adapter] browser stand-in failed: ${err.message}\n`),
    );
  }
});

/** Follows the authorization URL's redirects (as a browser would) until the loopback callback answers. */
async function playBrowser(start) {
  let next = start;
  for (let hop = 0; hop < 10 && next; hop++) {
    const res = await fetch(next, { redirect: 'manual' });
    await res.arrayBuffer();
    const loc = res.headers.get('location');
    next = loc ? new URL(loc, next).toString() : undefined;
  }
}

if (what[0] === 'bridge') driveBridge(HOST_PLANS[scenario]);
else {
  child.stdout.pipe(process.stdout);
  child.stdin.end();
}

/**
 * Acts as a minimal stdio MCP host behind the bridge: initialize, run the scenario's plan,
 * answer elicitation requests by accepting with the schema's defaults (the host's job under
 * SEP-1034; the bridge forwards the request unchanged).
 */
function driveBridge(plan) {
  let buf = '';
  const pending = new Map();
  let nextId = 1;
  const send = (msg) => child.stdin.write(JSON.stringify(msg) + '\n');
  const request = (method, params) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      send({ jsonrpc: '2.0', id, method, params });
    });
  child.stdout.on('data', (chunk) => {
    buf += chunk.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      process.stdout.write(line + '\n');
      const msg = JSON.parse(line);
      if (msg.method && msg.id !== undefined) {
        if (msg.method === 'elicitation/create') {
          const props = msg.params?.requestedSchema?.properties ?? {};
          const content = Object.fromEntries(
            Object.entries(props)
              .filter(([, s]) => s && 'default' in s)
              .map(([k, s]) => [k, s.default]),
          );
          send({ jsonrpc: '2.0', id: msg.id, result: { action: 'accept', content } });
        } else send({ jsonrpc: '2.0', id: msg.id, result: {} });
      } else if (msg.id !== undefined && pending.has(msg.id)) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
        else p.resolve(msg.result);
      }
    }
  });
  (async () => {
    await request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: { elicitation: {} },
      clientInfo: { name: 'conformance-adapter', version: '0.0.0' },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await plan(request);
    child.stdin.end();
  })().catch((err) => {
    process.stderr.write(`[adapter] ${err.message}\n`);
    process.exitCode = 1;
    child.stdin.end();
  });
}

child.on('exit', (code, signal) => {
  rmSync(home, { recursive: true, force: true });
  if (!process.exitCode) process.exitCode = code ?? (signal ? 1 : 0);
});
