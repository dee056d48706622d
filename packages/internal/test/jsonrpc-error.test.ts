// The one JSON-RPC-over-HTTP error type (packages/internal, inlined into each package at build time).
import { describe, expect, it } from 'vitest';
import {
  JSONRPC_ERROR_CODES,
  JsonRpcHttpError,
  jsonRpcErrorBody,
  jsonRpcErrorParts,
  jsonRpcErrorResponse,
} from '../src/jsonrpc-error.js';

describe('one JSON-RPC-over-HTTP error', () => {
  it('jsonrpc 2.0 §5: the response is the status and an error object with code and message for the id', async () => {
    const err = new JsonRpcHttpError(404, JSONRPC_ERROR_CODES.SessionNotFound, 'Session not found');
    const res = jsonRpcErrorResponse(err);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32001, message: 'Session not found' },
    });
  });

  it('error.data, the request id and headers such as Retry-After travel with the error', async () => {
    const err = new JsonRpcHttpError(429, JSONRPC_ERROR_CODES.ServerError, 'Too Many Requests', {
      headers: { 'retry-after': '1' },
      data: { supported: ['2026-07-28'] },
      id: 7,
    });
    const res = err.toResponse();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32000, message: 'Too Many Requests', data: { supported: ['2026-07-28'] } },
    });
    expect(JSON.parse(await err.toResponse('other').text())).toMatchObject({ id: 'other' });
  });

  it('extra headers (CORS) go on top; the parts are what the response is made of', () => {
    const err = new JsonRpcHttpError(400, JSONRPC_ERROR_CODES.InvalidRequest, 'bad', { headers: { a: '1' } });
    const parts = jsonRpcErrorParts(err, 3, { 'access-control-allow-origin': '*' });
    expect(parts).toEqual({
      status: 400,
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        a: '1',
        'access-control-allow-origin': '*',
      },
      body: jsonRpcErrorBody(3, -32600, 'bad'),
    });
  });

  it('the body leaves data out when there is none, and keeps a falsy one', () => {
    expect(JSON.parse(jsonRpcErrorBody(1, -32603, 'x'))).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32603, message: 'x' },
    });
    expect(JSON.parse(jsonRpcErrorBody(1, -32603, 'x', 0)).error.data).toBe(0);
  });

  it('a subclass names its case and keeps the cause', () => {
    class Refusal extends JsonRpcHttpError {
      override readonly name = 'Refusal';
    }
    const cause = new Error('inner');
    const err = new Refusal(503, JSONRPC_ERROR_CODES.StoreUnavailable, 'store down', { cause });
    expect(err).toBeInstanceOf(JsonRpcHttpError);
    expect([err.name, err.cause, err.code]).toEqual(['Refusal', cause, -32003]);
  });
});
