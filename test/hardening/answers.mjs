// MCP servers may answer a POST as JSON or as a Server-Sent Events stream (Streamable HTTP lets the
// server choose when the client accepts both, and xmcp answers 2025-era requests over SSE): the
// suites read either the same way.

/**
 * Parses a response body: JSON text, or an SSE stream whose `data:` fields hold JSON-RPC messages
 * (one message → that message, several → an array, as a JSON batch answer would be). Anything else
 * → `undefined`.
 */
export function parseAnswer(text) {
  try {
    return JSON.parse(text);
  } catch {
    // not JSON: maybe SSE
  }
  if (!/^(event|data|id|retry):|^:/m.test(text)) return undefined;
  const messages = [];
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).replace(/^ /, ""));
    if (data.length === 0) continue;
    try {
      messages.push(JSON.parse(data.join("\n")));
    } catch {
      return undefined;
    }
  }
  if (messages.length === 0) return undefined;
  return messages.length === 1 ? messages[0] : messages;
}
