/**
 * Returns `response` with a body that calls `onDone` once it has been read to
 * the end or cancelled (client gone), or calls it at once when there is no
 * body. Used to dispose of a per-request MCP server after its answer is out.
 */
export function closeWhenDone(response: Response, onDone: () => void): Response {
  let called = false;
  const done = () => {
    if (called) return;
    called = true;
    onDone();
  };
  if (!response.body) {
    done();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          controller.close();
          done();
        } else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        done();
      }
    },
    async cancel(reason) {
      try {
        await reader.cancel(reason);
      } finally {
        done();
      }
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
