// The shared deadline timer of in-flight 2026-07-28 requests, as 2025 sessions check their
// deadlines in one sweep (the same helper serves the gateway's federated member requests).
export { Ticker, TICK_MS, type Ticking } from '@mcp-gateway/internal/ticker';
