import { describe, expect, it } from "vitest";
import { errorResult } from "../src/challenge.js";
import {
  buildChallenge,
  ConfigurationError,
  ConnectionDeniedError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  quoteHeaderValue,
  TokenExpiredError,
  UnauthorizedError,
  UpstreamUnavailableError,
} from "../src/index.js";

const PRM = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const ctx = { resourceMetadata: PRM, scope: ["mcp:read"] };

describe("quoted values", () => {
  it("escapes backslash and quote, strips control and non-ASCII characters", () => {
    expect(quoteHeaderValue('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteHeaderValue("x\r\nWWW-Authenticate: evil")).toBe('"x WWW-Authenticate: evil"');
    expect(quoteHeaderValue("caf\u00e9\u0000\u2028!")).toBe('"caf !"');
  });
  it("builds the parameters in a fixed order", () => {
    expect(
      buildChallenge({ error: "invalid_token", errorDescription: "bad", scope: ["a", "b"], resourceMetadata: PRM }),
    ).toBe(`Bearer error="invalid_token", error_description="bad", scope="a b", resource_metadata="${PRM}"`);
    expect(buildChallenge({ resourceMetadata: PRM })).toBe(`Bearer resource_metadata="${PRM}"`);
  });
});

describe("error → HTTP answer", () => {
  const base = {
    "content-type": "application/json",
    "cache-control": "no-store",
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version",
  };

  it("missing credentials: 401, no error= in the challenge, scope and resource_metadata", () => {
    expect(errorResult(new UnauthorizedError(), ctx)).toEqual({
      status: 401,
      headers: { ...base, "www-authenticate": `Bearer scope="mcp:read", resource_metadata="${PRM}"` },
      body: JSON.stringify({
        error: "unauthorized",
        error_description: "Authentication required: send an OAuth access token as 'Authorization: Bearer <token>'",
      }),
    });
  });

  it("invalid token: 401 invalid_token", () => {
    const r = errorResult(new InvalidTokenError("The access token signature is invalid"), ctx);
    expect(r.status).toBe(401);
    expect(r.headers["www-authenticate"]).toBe(
      `Bearer error="invalid_token", error_description="The access token signature is invalid", scope="mcp:read", resource_metadata="${PRM}"`,
    );
    expect(JSON.parse(r.body)).toEqual({
      error: "invalid_token",
      error_description: "The access token signature is invalid",
    });
  });

  it("expired token: 401 invalid_token (code token_expired)", () => {
    const r = errorResult(new TokenExpiredError(), ctx);
    expect(r.status).toBe(401);
    expect(r.headers["www-authenticate"]).toBe(
      `Bearer error="invalid_token", error_description="The access token expired", scope="mcp:read", resource_metadata="${PRM}"`,
    );
  });

  it("expired token with expiredTokenError: token_expired: only the body's error changes", () => {
    const spec = errorResult(new TokenExpiredError(), ctx);
    const compat = errorResult(new TokenExpiredError(), { ...ctx, expiredTokenError: "token_expired" });
    expect(JSON.parse(spec.body)).toEqual({ error: "invalid_token", error_description: "The access token expired" });
    expect(JSON.parse(compat.body)).toEqual({ error: "token_expired", error_description: "The access token expired" });
    expect(compat.status).toBe(spec.status);
    expect(compat.headers).toEqual(spec.headers);
    // Other errors are untouched.
    const invalid = errorResult(new InvalidTokenError("bad"), { ...ctx, expiredTokenError: "token_expired" });
    expect(JSON.parse(invalid.body).error).toBe("invalid_token");
  });

  it("malformed request: 400 invalid_request with a challenge", () => {
    const r = errorResult(new InvalidRequestError("Send exactly one Authorization header"), ctx);
    expect(r.status).toBe(400);
    expect(r.headers["www-authenticate"]).toBe(
      `Bearer error="invalid_request", error_description="Send exactly one Authorization header", scope="mcp:read", resource_metadata="${PRM}"`,
    );
  });

  it("insufficient scope: 403 naming token ∪ required scopes", () => {
    const error = new InsufficientScopeError({
      requiredScopes: ["notes:write"],
      missingScopes: ["notes:write"],
      tokenScopes: ["openid"],
    });
    const r = errorResult(error, ctx);
    expect(r.status).toBe(403);
    expect(r.headers["www-authenticate"]).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="notes:write openid", resource_metadata="${PRM}"`,
    );
    expect(JSON.parse(r.body)).toEqual(error.toJSON());
  });

  it("upstream down: 503 with Retry-After and no challenge", () => {
    const r = errorResult(new UpstreamUnavailableError("Descope JWKS could not be reached", 7.2), ctx);
    expect(r).toEqual({
      status: 503,
      headers: { ...base, "retry-after": "8" },
      body: JSON.stringify({
        error: "temporarily_unavailable",
        error_description: "Descope JWKS could not be reached",
      }),
    });
  });

  it("Retry-After is always whole delay-seconds between 1 and 3600", () => {
    const header = (s: number) => errorResult(new UpstreamUnavailableError("down", s), ctx).headers["retry-after"];
    expect([Number.NaN, Infinity, -Infinity, 1e300, 0, -5, 0.2, 3599.5, 86_400].map(header)).toEqual([
      "5",
      "3600",
      "1",
      "3600",
      "1",
      "1",
      "1",
      "3600",
      "3600",
    ]);
  });

  it("configuration errors and unknown errors: 500 that reveals nothing", () => {
    const secret = new Error("ECONNRESET at 10.0.0.1 with key K-123");
    expect(errorResult(secret, ctx)).toEqual({
      status: 500,
      headers: base,
      body: '{"error":"server_error","error_description":"Internal authorization error"}',
    });
    const r = errorResult(new ConfigurationError("managementKey missing", "managementKey"), ctx);
    expect(r.status).toBe(500);
    expect(r.body).toBe('{"error":"server_error","error_description":"Authorization is misconfigured on this server"}');
  });

  it("non-gate errors carry no challenge", () => {
    const r = errorResult(new ConnectionDeniedError("google"), ctx);
    expect(r.status).toBe(403);
    expect(r.headers["www-authenticate"]).toBeUndefined();
    expect(JSON.parse(r.body)).toEqual({
      error: "access_denied",
      error_description: "Descope denied access to the 'google' connection token",
    });
  });

  it("values that try to break out of the quoted string stay inside it", () => {
    const error = new InsufficientScopeError({
      requiredScopes: ['x" , error="none'],
      missingScopes: ['x"'],
      tokenScopes: ["a\r\nSet-Cookie: a=b"],
    });
    const header = errorResult(error, ctx).headers["www-authenticate"] as string;
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: x\\"", scope="a Set-Cookie: a=b x\\" , error=\\"none", resource_metadata="${PRM}"`,
    );
  });
});
