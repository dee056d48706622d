/** Small helpers of the everything-server fixtures (`conformance-everything*.ts`). */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A tool result with one text item. */
export const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
