/**
 * Every failure the library reports is a `DescopeMcpError` with a stable `code`, the HTTP `status`
 * it maps to and, where one applies, the OAuth `error` value (RFC 6749 / RFC 6750).
 */
export type DescopeMcpErrorCode =
  | "unauthorized"
  | "invalid_request"
  | "payload_too_large"
  | "method_not_allowed"
  | "invalid_token"
  | "token_expired"
  | "insufficient_scope"
  | "upstream_unavailable"
  | "upstream_error"
  | "configuration"
  | "connection_not_found"
  | "connection_denied"
  | "user_not_found"
  | "no_session";

/** OAuth error values that may appear in a `WWW-Authenticate` challenge or JSON body. */
export type OAuthErrorValue =
  | "invalid_request"
  | "invalid_token"
  | "insufficient_scope"
  | "temporarily_unavailable"
  | "server_error"
  | "access_denied"
  | "not_found";

/**
 * Options every {@link DescopeMcpError} constructor takes.
 *
 * @inline
 */
export interface DescopeMcpErrorOptions {
  /** The underlying failure, kept as the standard `Error.cause` (never sent to clients). */
  cause?: unknown;
}

/**
 * The base class of every error the library throws: switch on `code` (or use `instanceof` on a
 * subclass), never on `message`. Messages never contain tokens or keys.
 * {@link DescopeMcpAuth.errorResult} turns one into the HTTP answer.
 */
export class DescopeMcpError extends Error {
  /** Stable, documented identifier; switch on this, never on `message`. */
  readonly code: DescopeMcpErrorCode;
  /** HTTP status this error maps to. */
  readonly status: number;
  /** OAuth `error` value for bodies and challenges, when one applies. */
  readonly oauthError: OAuthErrorValue | undefined;

  /**
   * @param code - The stable error code.
   * @param status - The HTTP status it maps to.
   * @param oauthError - The OAuth `error` value, or `undefined`.
   * @param message - A description for people: the `error_description` clients get (except for 500s).
   * @param options - `cause`: the underlying failure.
   */
  constructor(
    code: DescopeMcpErrorCode,
    status: number,
    oauthError: OAuthErrorValue | undefined,
    message: string,
    options?: DescopeMcpErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.oauthError = oauthError;
  }

  /** The JSON body sent to clients. */
  toJSON(): Record<string, unknown> {
    return { error: this.oauthError ?? this.code, error_description: this.message };
  }
}

/** No credentials were presented (401, challenge without `error=`). */
export class UnauthorizedError extends DescopeMcpError {
  constructor(message = "Authentication required: send an OAuth access token as 'Authorization: Bearer <token>'") {
    super("unauthorized", 401, undefined, message);
  }
  override toJSON(): Record<string, unknown> {
    return { error: "unauthorized", error_description: this.message };
  }
}

/** The request is malformed (400 `invalid_request`). */
export class InvalidRequestError extends DescopeMcpError {
  constructor(message: string) {
    super("invalid_request", 400, "invalid_request", message);
  }
}

/** The request body is larger than the gate reads (413 `invalid_request`). */
export class PayloadTooLargeError extends DescopeMcpError {
  /** The limit, in bytes. */
  readonly limit: number;
  constructor(limit: number, message = `The request body is larger than ${limit} bytes`) {
    super("payload_too_large", 413, "invalid_request", message);
    this.limit = limit;
  }
}

/** The method is not served on this route (405 with `Allow`). */
export class MethodNotAllowedError extends DescopeMcpError {
  /** The methods the route answers, for the `Allow` header. */
  readonly allow: readonly string[];
  constructor(method: string, allow: readonly string[]) {
    super(
      "method_not_allowed",
      405,
      "invalid_request",
      `${/^[A-Za-z-]{1,20}$/.test(method) ? method.toUpperCase() : "This method"} is not allowed here`,
    );
    this.allow = Object.freeze([...allow]);
  }
  override toJSON(): Record<string, unknown> {
    return { error: "method_not_allowed", error_description: this.message };
  }
}

/** What a refused token said about itself, once its signature verified: for diagnosis, never the token. */
export interface RefusedTokenClaims {
  /** The token's `aud`, always as an array (strings only, at most 5, each at most 200 characters). */
  readonly audience: readonly string[];
  /** The token's `iss` (at most 200 characters), when it has one. */
  readonly issuer?: string;
}

/** Options of {@link InvalidTokenError} and {@link TokenExpiredError}. */
export interface InvalidTokenErrorOptions extends DescopeMcpErrorOptions {
  /** The verified token's claims, when the refusal is about them (audience, issuer, time, subject). */
  claims?: Record<string, unknown>;
}

/** The diagnosable part of verified claims. */
function refusedClaims(claims: Record<string, unknown> | undefined): RefusedTokenClaims | undefined {
  if (claims === undefined) return undefined;
  const clip = (v: string) => v.slice(0, 200);
  const aud = claims.aud;
  const audience = (typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [])
    .filter((a): a is string => typeof a === "string")
    .slice(0, 5)
    .map(clip);
  const out: { audience: readonly string[]; issuer?: string } = { audience: Object.freeze(audience) };
  if (typeof claims.iss === "string") out.issuer = clip(claims.iss);
  return Object.freeze(out);
}

/** The token is not acceptable (401 `invalid_token`). */
export class InvalidTokenError extends DescopeMcpError {
  /**
   * When the token's signature verified but its claims were refused: its audience and issuer, so an
   * operator can see what Descope put in it (the `onEvent` deny record carries them too).
   */
  readonly tokenClaims: RefusedTokenClaims | undefined;
  constructor(message: string, options?: InvalidTokenErrorOptions) {
    super("invalid_token", 401, "invalid_token", message, options);
    this.tokenClaims = refusedClaims(options?.claims);
  }
}

/** The token was valid once but has expired (401 `invalid_token`, code `token_expired`). */
export class TokenExpiredError extends DescopeMcpError {
  /** When the token expired. */
  readonly expiredAt: Date | undefined;
  /** The expired token's audience and issuer (see `InvalidTokenError.tokenClaims`). */
  readonly tokenClaims: RefusedTokenClaims | undefined;
  constructor(message = "The access token expired", expiredAt?: Date, options?: InvalidTokenErrorOptions) {
    super("token_expired", 401, "invalid_token", message, options);
    this.expiredAt = expiredAt;
    this.tokenClaims = refusedClaims(options?.claims);
  }
}

/** The token is valid but lacks scopes (403 `insufficient_scope`). */
export class InsufficientScopeError extends DescopeMcpError {
  /** Scopes the operation requires. */
  readonly requiredScopes: readonly string[];
  /** Required scopes the token does not cover. */
  readonly missingScopes: readonly string[];
  /** Scopes the token carries. */
  readonly tokenScopes: readonly string[];
  /** Token scopes ∪ required scopes, sorted: what a client should ask for when it steps up. */
  readonly combinedScopes: readonly string[];

  constructor(init: {
    requiredScopes: readonly string[];
    missingScopes: readonly string[];
    tokenScopes: readonly string[];
    message?: string;
  }) {
    super(
      "insufficient_scope",
      403,
      "insufficient_scope",
      init.message ?? `The access token lacks required scopes: ${init.missingScopes.join(" ")}`,
    );
    this.requiredScopes = Object.freeze([...init.requiredScopes]);
    this.missingScopes = Object.freeze([...init.missingScopes]);
    this.tokenScopes = Object.freeze([...init.tokenScopes]);
    this.combinedScopes = Object.freeze([...new Set([...init.tokenScopes, ...init.requiredScopes])].sort());
  }

  override toJSON(): Record<string, unknown> {
    return {
      error: "insufficient_scope",
      error_description: this.message,
      scope: this.combinedScopes.join(" "),
      missing_scopes: [...this.missingScopes],
      token_scopes: [...this.tokenScopes],
      required_scopes: [...this.requiredScopes],
    };
  }
}

/** Descope could not be reached in time, or answered 5xx (503 with `Retry-After`). */
export class UpstreamUnavailableError extends DescopeMcpError {
  /** Seconds a client should wait before retrying. */
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 5, options?: DescopeMcpErrorOptions) {
    super("upstream_unavailable", 503, "temporarily_unavailable", message, options);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** Descope answered with an unexpected client error (502). */
export class UpstreamError extends DescopeMcpError {
  /** The status Descope answered. */
  readonly upstreamStatus: number;
  constructor(message: string, upstreamStatus: number) {
    super("upstream_error", 502, "server_error", message);
    this.upstreamStatus = upstreamStatus;
  }
}

/** The library was configured wrongly, or a call needs configuration that is absent (500). */
export class ConfigurationError extends DescopeMcpError {
  /** The option (or environment variable) at fault, when one is. */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super("configuration", 500, "server_error", message);
    this.field = field;
  }
}

/** The user (or tenant) has not connected the third-party app (404). */
export class ConnectionNotFoundError extends DescopeMcpError {
  /** The outbound (connection) app ID asked for. */
  readonly appId: string;
  constructor(
    appId: string,
    message = `No '${appId}' connection token was found: the user has not connected this app`,
  ) {
    super("connection_not_found", 404, "not_found", message);
    this.appId = appId;
  }
}

/** Descope refused to release the connection token (policy, or the caller's token lacks `outbound.token.fetch`) (403). */
export class ConnectionDeniedError extends DescopeMcpError {
  /** The outbound (connection) app ID asked for. */
  readonly appId: string;
  constructor(appId: string, message = `Descope denied access to the '${appId}' connection token`) {
    super("connection_denied", 403, "access_denied", message);
    this.appId = appId;
  }
}

/** The management API has no such user (404). */
export class UserNotFoundError extends DescopeMcpError {
  constructor(message = "No such user") {
    super("user_not_found", 404, "not_found", message);
  }
}

/** `requireSession()` (or `getSession()` of an adapter that throws) was called outside an authenticated request (500). */
export class NoSessionError extends DescopeMcpError {
  constructor(
    message = "No Descope session: this code is not running inside an authenticated MCP request (is the Descope gate in front of it?)",
  ) {
    super("no_session", 500, "server_error", message);
  }
}

/** Whether `value` is a `DescopeMcpError` (any subclass). */
export function isDescopeMcpError(value: unknown): value is DescopeMcpError {
  return value instanceof DescopeMcpError;
}
