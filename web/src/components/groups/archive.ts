// Text in, text out: the API routes whose JSON carries 64-bit candids (POST /api/queries, a
// filter's test), which JSON.parse would round, so they are read with lib/jsonText.
import { api, ApiError } from "../../api";

type TextReply = { data?: string; error?: unknown; response: Response };

/** The answer's text, or an ApiError with the server's message. */
export async function replyText(call: Promise<TextReply>): Promise<string> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok || data === undefined) {
    const message = (error as { message?: string } | undefined)?.message;
    throw new ApiError(message ?? `${response.status} ${response.statusText}`, response.status);
  }
  return data;
}

/** An archive query (Kowalski's {query_type, query, kwargs}) written as JSON text. */
export const archiveQuery = (queryText: string, signal?: AbortSignal): Promise<string> =>
  replyText(
    api.POST("/api/queries", {
      body: { query_type: "find" },
      bodySerializer: () => queryText,
      parseAs: "text",
      signal,
    }),
  );
