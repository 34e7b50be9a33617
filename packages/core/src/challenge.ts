import { DescopeMcpError, InsufficientScopeError, MethodNotAllowedError, UpstreamUnavailableError } from "./errors.js";
import { MCP_CORS_HEADERS } from "./metadata.js";

/** A transport-neutral HTTP answer: adapters write it verbatim. */
export interface AuthErrorResult {
  /** The HTTP status: 204 for a CORS preflight, else the refusal's (400, 401, 403, 405, 413, 500, 502, 503, …). */
  status: number;
  /**
   * Response headers, lower-case names: `content-type`, `cache-control: no-store` and CORS, plus
   * `www-authenticate`, `retry-after` or `allow` where they apply (a preflight: CORS headers only).
   */
  headers: Record<string, string>;
  /** JSON text (`{"error", "error_description", …}`); empty for a preflight. */
  body: string;
}

/** The parts of an RFC 6750 `WWW-Authenticate: Bearer` challenge, for {@link buildChallenge}. */
export interface ChallengeParams {
  /** The OAuth `error` (`invalid_token`, `insufficient_scope`, …); omit it when no credentials were sent. */
  error?: string | undefined;
  /** `error_description`: written only together with `error`. */
  errorDescription?: string | undefined;
  /** Scopes for `scope` (space-joined): what the client should ask for. Not written when empty. */
  scope?: readonly string[] | undefined;
  /** The absolute RFC 9728 metadata URL (`resource_metadata`), always written. */
  resourceMetadata: string;
}

/**
 * Makes a value safe inside an RFC 7230 quoted-string: drops control characters and anything
 * outside printable ASCII (a header must be a byte string), then escapes `\` and `"`.
 */
export function quoteHeaderValue(value: string): string {
  // One pass: runs of anything outside printable ASCII and runs of spaces become one space, the ends
  // are trimmed, `\\` and `"` are escaped.
  let out = "";
  let pendingSpace = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c > 0x7e) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace) out += " ";
    pendingSpace = false;
    out += c === 0x5c || c === 0x22 ? `\\${value[i]}` : value[i];
  }
  return `"${out}"`;
}

/**
 * Builds an RFC 6750 §3 `WWW-Authenticate: Bearer …` value; every parameter is a quoted-string
 * ({@link quoteHeaderValue}).
 */
export function buildChallenge(params: ChallengeParams): string {
  const parts: string[] = [];
  if (params.error) parts.push(`error=${quoteHeaderValue(params.error)}`);
  if (params.error && params.errorDescription) {
    parts.push(`error_description=${quoteHeaderValue(params.errorDescription)}`);
  }
  if (params.scope && params.scope.length > 0) parts.push(`scope=${quoteHeaderValue(params.scope.join(" "))}`);
  parts.push(`resource_metadata=${quoteHeaderValue(params.resourceMetadata)}`);
  return `Bearer ${parts.join(", ")}`;
}

const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * `Retry-After` as RFC 9110 delay-seconds: a whole number from 1 to an hour, whatever the error
 * carries (`NaN` → the 5 s default; `Infinity` or 1e300 never reach the header as such).
 */
export function retryAfter(seconds: number): string {
  if (Number.isNaN(seconds)) return "5";
  return String(Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds))));
}

const CHALLENGE_CODES = new Set([
  "unauthorized",
  "invalid_request",
  "invalid_token",
  "token_expired",
  "insufficient_scope",
]);

const BASE_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
  ...MCP_CORS_HEADERS,
} as const;

/**
 * Maps any thrown value to the answer a client must get. Known errors keep their status and
 * challenge; anything else becomes a 500 that reveals nothing.
 */
export function errorResult(
  error: unknown,
  context: {
    resourceMetadata: string;
    scope?: readonly string[] | undefined;
    /** The body's `error` for an expired token (default `invalid_token`). */
    expiredTokenError?: "invalid_token" | "token_expired" | undefined;
  },
): AuthErrorResult {
  if (!(error instanceof DescopeMcpError)) {
    return {
      status: 500,
      headers: { ...BASE_HEADERS },
      body: JSON.stringify({ error: "server_error", error_description: "Internal authorization error" }),
    };
  }
  const headers: Record<string, string> = { ...BASE_HEADERS };
  const body = error.toJSON();
  if (error.code === "token_expired" && context.expiredTokenError === "token_expired") body.error = "token_expired";
  if (CHALLENGE_CODES.has(error.code)) {
    const scope = error instanceof InsufficientScopeError ? error.combinedScopes : context.scope;
    headers["www-authenticate"] = buildChallenge({
      error: error.code === "unauthorized" ? undefined : error.oauthError,
      errorDescription: error.message,
      scope,
      resourceMetadata: context.resourceMetadata,
    });
  }
  if (error instanceof UpstreamUnavailableError) headers["retry-after"] = retryAfter(error.retryAfterSeconds);
  if (error instanceof MethodNotAllowedError) headers.allow = error.allow.join(", ");
  if (error.code === "configuration" || error.code === "no_session") {
    // Configuration problems are the operator's to read in logs, not the client's.
    return {
      status: 500,
      headers,
      body: JSON.stringify({
        error: "server_error",
        error_description: "Authorization is misconfigured on this server",
      }),
    };
  }
  return { status: error.status, headers, body: JSON.stringify(body) };
}

/**
 * One of the core's answers (`errorResult`, the preflight) as a Web `Response`. An empty body is
 * sent as no body at all: a 204 must have none (Node's `Response` refuses even an empty string).
 */
export function toResponse(result: AuthErrorResult): Response {
  return new Response(result.body === "" ? null : result.body, { status: result.status, headers: result.headers });
}
