/**
 * `json` (a request body's parse) with `carrier` (W3C `traceparent`, maybe
 * `tracestate`) in the `params._meta` of each request and notification, the
 * unprefixed keys of SEP-414 and the OpenTelemetry MCP conventions. A trace
 * context the client put there is replaced by the gateway's hop (the child
 * continues the same trace). Returns a copy: `json` is left as it was.
 */
export function withTraceMeta(json: unknown, carrier: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(json)) return json.map((m) => withTraceMeta(m, carrier));
  if (typeof json !== 'object' || json === null) return json;
  const message = json as { method?: unknown; params?: unknown };
  if (typeof message.method !== 'string') return json;
  const params =
    typeof message.params === 'object' && message.params !== null && !Array.isArray(message.params)
      ? (message.params as Record<string, unknown>)
      : {};
  const meta =
    typeof params._meta === 'object' && params._meta !== null
      ? (params._meta as Record<string, unknown>)
      : {};
  const { traceparent: _p, tracestate: _s, ...kept } = meta;
  return { ...message, params: { ...params, _meta: { ...kept, ...carrier } } };
}
