// What a raw 2026-07-28 request's answer is read as in tests of MRTR steps (SEP-2322).

/** The HTTP status and JSON-RPC `result` (an `input_required` one has its requests and state) or `error`. */
export interface MrtrAnswer {
  status: number;
  result?: Record<string, unknown> & {
    inputRequests?: Record<string, { method: string; params: Record<string, unknown> }>;
    requestState?: string;
  };
  error?: { code: number; message: string; data?: unknown };
}

/** Reads `res` as a {@link MrtrAnswer}. */
export async function mrtrAnswer(res: Response): Promise<MrtrAnswer> {
  return { status: res.status, ...((await res.json()) as Omit<MrtrAnswer, 'status'>) };
}
