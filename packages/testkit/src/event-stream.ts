/**
 * A `text/event-stream` response whose body is `chunks`, each enqueued as one chunk (UTF-8), then
 * ended: for tests of event-stream readers, where a line end falls between chunks matters.
 * (Sent over a socket, the chunks may still be joined on the way.)
 */
export function eventStreamResponse(chunks: readonly string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}
