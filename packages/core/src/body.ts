import { ConfigurationError, InvalidRequestError, PayloadTooLargeError } from "./errors.js";

/**
 * The body contract every gate follows (see "Failing closed" in the README).
 *
 * When per-tool scopes are configured, the decision depends on the JSON-RPC body, so the gate must
 * judge exactly the body the MCP transport will dispatch: it reads the raw body itself, once, under
 * the rules below, and hands the parsed value on (`req.body`, `parsedBody`). Whatever it cannot read
 * and parse is refused — it never treats "no body seen" as "no tool called".
 */

/** Default most bytes a gate reads from a request body: 4 MiB. */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

const EMPTY_BODY = "The request body is empty; an MCP request is a JSON-RPC message";

/** What the body rules need from a request's headers (single values; Node joins repeats with ", "). */
export interface BodyHeaders {
  /** `Content-Type`: must be `application/json` (parameters allowed, a `charset` only if UTF-8). */
  contentType?: string | null | undefined;
  /** `Content-Encoding`: must be absent, empty or `identity`. */
  contentEncoding?: string | null | undefined;
  /** `Content-Length` as sent: decimal digits, at most the body limit; absent for a chunked body. */
  contentLength?: string | null | undefined;
}

/**
 * Checks the headers of a body the gate must read: `Content-Type: application/json` (parameters
 * allowed, a `charset` only if UTF-8), no `Content-Encoding` other than `identity`, and a
 * `Content-Length` (when given) within `limit` and not zero. Throws `InvalidRequestError` (400) or
 * `PayloadTooLargeError` (413). Linear in the header lengths.
 */
export function checkBodyHeaders(headers: BodyHeaders, limit: number = DEFAULT_BODY_LIMIT): void {
  const type = headers.contentType;
  if (type === undefined || type === null || type === "") {
    throw new InvalidRequestError("The request has no Content-Type; MCP requests must be sent as application/json");
  }
  const semicolon = type.indexOf(";");
  const media = (semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase();
  if (media !== "application/json") {
    throw new InvalidRequestError("The request body must be sent with Content-Type: application/json");
  }
  if (semicolon >= 0) {
    // Each parameter is looked at once: `;`-separated, `name=value`, the value maybe quoted.
    let at = semicolon + 1;
    while (at <= type.length) {
      let end = type.indexOf(";", at);
      if (end < 0) end = type.length;
      const param = type.slice(at, end);
      const eq = param.indexOf("=");
      if (eq >= 0 && param.slice(0, eq).trim().toLowerCase() === "charset") {
        let value = param.slice(eq + 1).trim();
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
        const charset = value.toLowerCase();
        if (charset !== "utf-8" && charset !== "utf8") {
          throw new InvalidRequestError("The request body must be UTF-8 encoded JSON");
        }
      }
      at = end + 1;
    }
  }
  const encoding = headers.contentEncoding;
  if (encoding !== undefined && encoding !== null && encoding.trim().toLowerCase() !== "identity" && encoding !== "") {
    throw new InvalidRequestError("Content-Encoding is not supported on MCP requests; send the JSON body unencoded");
  }
  const length = headers.contentLength;
  if (length !== undefined && length !== null && length !== "") {
    const declared = declaredLength(length);
    if (declared === undefined) throw new InvalidRequestError("The Content-Length header is malformed");
    if (declared > limit) throw new PayloadTooLargeError(limit);
    // Declared empty: refused here already, so a body parser that turns an empty body into `{}`
    // before the gate runs (xmcp's does) cannot make it look like a message.
    if (declared === 0) throw new InvalidRequestError(EMPTY_BODY);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a request body as the MCP transports do (JSON text, a leading UTF-8 BOM ignored), strictly:
 * invalid UTF-8, an empty body or invalid JSON is refused with `InvalidRequestError` (400).
 */
export function parseJsonBody(body: string | Uint8Array | ArrayBuffer): unknown {
  let text: string;
  if (typeof body === "string") text = body;
  else {
    try {
      text = utf8.decode(body);
    } catch {
      throw new InvalidRequestError("The request body is not valid UTF-8");
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Only a failed parse asks why: nothing but whitespace is an empty body.
    throw new InvalidRequestError(text.trim() === "" ? EMPTY_BODY : "The request body is not valid JSON");
  }
}

/**
 * The body as the per-tool policy sees it: a value a parser already produced (object, array) is
 * taken as is; text or raw bytes are parsed with `parseJsonBody`. `undefined` means the gate has no
 * body to judge, and a JSON value that is neither an object nor an array is no JSON-RPC message:
 * both are refused (400).
 */
export function bodyForPolicy(body: unknown): unknown {
  if (body === undefined) {
    throw new InvalidRequestError(
      "The request body could not be read, so the tools it calls cannot be authorized; send the complete JSON-RPC message",
    );
  }
  let value: unknown = body;
  if (typeof body === "string" || body instanceof ArrayBuffer) value = parseJsonBody(body);
  else if (ArrayBuffer.isView(body))
    value = parseJsonBody(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  if (value === null || typeof value !== "object") {
    throw new InvalidRequestError("The request body is not a JSON-RPC message (an object, or a batch of them)");
  }
  return value;
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A byte count from a number or a size string such as `"4mb"`, `"512kb"`, `"100"`. */
export function byteLimit(value: number | string | undefined, fallback: number = DEFAULT_BODY_LIMIT): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === "string") {
    const match = /^\s*(\d{1,12}(?:\.\d{1,6})?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
    if (match) {
      const bytes = Math.floor(Number(match[1]) * (UNITS[(match[2] ?? "b").toLowerCase()] as number));
      if (bytes > 0 && Number.isSafeInteger(bytes)) return bytes;
    }
  }
  throw new ConfigurationError(
    `bodyLimit must be a positive number of bytes or a size such as "4mb", got ${JSON.stringify(String(value)).slice(0, 40)}`,
    "bodyLimit",
  );
}

/** A Content-Length value as a number of bytes, or `undefined` when it is absent or not 1–16 digits. */
export function declaredLength(value: string | null | undefined): number | undefined {
  return typeof value === "string" && /^\d{1,16}$/.test(value) ? Number(value) : undefined;
}
