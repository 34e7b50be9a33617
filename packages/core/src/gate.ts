import { declaredLength } from "./body.js";
import { DescopeMcpError, InvalidRequestError, PayloadTooLargeError } from "./errors.js";

/** Methods the MCP endpoint serves (Streamable HTTP: POST, GET for the SSE stream, DELETE for sessions; OPTIONS for CORS). */
export const MCP_METHODS: readonly string[] = Object.freeze(["GET", "POST", "DELETE", "OPTIONS"]);

/**
 * Whether `pathname` reaches the MCP endpoint at `mcpPath` as routers may see it: compared
 * case-insensitively, after percent-decoding, with repeated and trailing slashes ignored, and
 * including every path below it (`/mcp/x`). Gating too much is safe; gating too little is not, so a
 * path that cannot be decoded counts as gated. One pass over the path, whatever its shape.
 */
export function isUnderMcpPath(pathname: string, mcpPath: string): boolean {
  if (pathname === mcpPath) return true; // the usual request: the endpoint as configured
  const p = normalizeForGate(pathname);
  const b = normalizeForGate(mcpPath);
  if (p === undefined) return true;
  if (b === "") return true; // the endpoint is the root: everything is under it
  return p === b || p.startsWith(`${b}/`);
}

function normalizeForGate(path: string): string | undefined {
  let decoded = path;
  if (path.includes("%")) {
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return undefined;
    }
  }
  // One pass: lower-case, runs of slashes collapsed, trailing slashes dropped.
  const lower = decoded.toLowerCase();
  let out = "";
  let slash = false;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (c === 0x2f) {
      slash = true;
      continue;
    }
    if (slash) out += "/";
    slash = false;
    out += lower[i];
  }
  return out;
}

/**
 * Reads a Web `Request`'s body once, up to `limit` bytes (a longer body is refused with
 * `PayloadTooLargeError` as soon as it crosses the limit, without buffering the rest). A body that
 * was already consumed or is being read by someone else is refused with `InvalidRequestError`, as is
 * one whose stream fails or is aborted before its end.
 */
export async function readRequestBytes(request: Request, limit: number): Promise<Uint8Array> {
  if (request.bodyUsed) throw consumed();
  const declared = declaredLength(request.headers.get("content-length"));
  if (declared !== undefined && declared <= limit) {
    // The HTTP layer delivers at most Content-Length bytes: read them at once, the way hosts read
    // fastest. (@hono/node-server reads the socket directly for `arrayBuffer()`, but builds a full
    // Web stream as soon as `body` is touched: so `body` is not looked at on this path.)
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await request.arrayBuffer());
    } catch {
      throw new InvalidRequestError(
        "The request body could not be read completely (the client aborted or the stream failed)",
      );
    }
    if (bytes.byteLength > limit) throw new PayloadTooLargeError(limit);
    return bytes;
  }
  if (request.body !== null && request.body.locked) throw consumed(); // another reader holds the stream
  return readStreamBytes(request.body, limit);
}

/**
 * Reads a byte stream to its end, up to `limit` bytes: past the limit the stream is cancelled and
 * `PayloadTooLargeError` thrown; a stream that fails (an abort, a reset) is an `InvalidRequestError`.
 * A `null` stream is an empty body.
 */
export async function readStreamBytes(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array(0);
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = stream.getReader();
  } catch {
    throw consumed(); // locked: another reader holds the stream
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (cause) {
      if (cause instanceof DescopeMcpError) throw cause;
      throw new InvalidRequestError(
        "The request body could not be read completely (the client aborted or the stream failed)",
      );
    }
    const { done, value } = next;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new PayloadTooLargeError(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * Reads a Web `Request`'s body for the gate: its bytes (`readRequestBytes`), or — only when an
 * earlier layer has already consumed the stream — `parsed`, the value that layer produced from it
 * (e.g. Hono's `c.get("parsedBody")`), which the gate then judges and hands on. A consumed body with
 * nothing to show for it is refused (400), never read as "no tool called".
 */
export function readWebBody(request: Request, limit: number, parsed?: unknown): Promise<unknown> {
  if (request.bodyUsed && parsed !== undefined) return Promise.resolve(parsed);
  return readRequestBytes(request, limit);
}

function consumed(): InvalidRequestError {
  return new InvalidRequestError("The request body was consumed before the authorization gate could read it");
}
