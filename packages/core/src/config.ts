import { z } from "zod";
import { byteLimit } from "./body.js";
import { ConfigurationError } from "./errors.js";
import type { FetchLike } from "./http.js";
import { SCOPE_TOKEN } from "./scopes.js";
import { JWS_ALGORITHMS } from "./verify.js";

/**
 * Audit record passed to {@link DescopeMcpAuthOptions.onEvent}: one per authentication decision
 * (`authenticate`, `gate`, `handle`). CORS preflights, 405s and the metadata routes produce none. It
 * never contains the token.
 */
export interface AuthEvent {
  /** `allow`: the request goes on to the MCP handler; `deny`: it was refused. */
  type: "allow" | "deny";
  /**
   * `ok` for allow; for deny the refusal's {@link DescopeMcpErrorCode} (`unauthorized`, `invalid_token`,
   * `token_expired`, `insufficient_scope`, `invalid_request`, `payload_too_large`,
   * `upstream_unavailable`, …), or `internal_error` for an unexpected exception.
   */
  reason: string;
  /**
   * HTTP status of the decision: 200 for allow; for deny the refusal's status (400, 401, 403, 413,
   * 503, …; 500 for an unexpected exception or a configuration problem).
   */
  status: number;
  /** The caller's user ID (`sub`), when the token verified (a deny for scopes or for the body). */
  userId?: string;
  /** The OAuth client the token was issued to (`azp`, else `client_id`), when the token verified and names one. */
  clientId?: string;
  /** Tools named by `tools/call` requests in the body. */
  tools?: string[];
  /**
   * The scopes the request needed: `requiredScopes` plus the `toolScopes` of every tool called in the
   * body. On a deny before the body was judged, the server-wide `requiredScopes` only.
   */
  requiredScopes?: string[];
  /** For `insufficient_scope`: the required scopes the token does not cover. */
  missingScopes?: string[];
  /**
   * For a deny: the refusal's message, as in the client's `error_description` (configuration problems
   * are described here only; the client gets a generic 500). Absent for unexpected exceptions.
   */
  description?: string;
  /**
   * For a token whose signature verified but whose claims were refused (audience, issuer, time,
   * subject): its `aud` (as an array) and `iss`, so the cause can be found (see the troubleshooting
   * guide). Never the token itself.
   */
  tokenAudience?: string[];
  /**
   * The refused token's `iss` (at most 200 characters), with {@link AuthEvent.tokenAudience}. Never
   * the token itself.
   */
  tokenIssuer?: string;
}

/**
 * Upstream time limits, each in milliseconds (a whole number from 1 to 120000), for
 * {@link DescopeMcpAuthOptions.timeouts}. A limit that is hit is an {@link UpstreamUnavailableError}
 * (503 with `Retry-After`).
 */
export interface Timeouts {
  /**
   * The most one request waits, in all, for upstream work it needs before it can be decided
   * (discovery, then the JWKS, on a cold start): then 503 with `Retry-After` (ms, default 5000).
   * The fetches themselves go on and serve later requests.
   */
  request?: number;
  /** Discovery / authorization-server metadata fetch (ms, default 5000). */
  discovery?: number;
  /** JWKS fetch (ms, default 5000). */
  jwks?: number;
  /** Connection-token calls (ms, default 10000). */
  connections?: number;
  /** Management API calls (ms, default 10000). */
  management?: number;
}

/**
 * Options of {@link createDescopeMcpAuth}. Required: `baseURL`, and one of `issuerURL`,
 * `wellKnownURL` or `projectId`. Every option is validated when the engine is created: an invalid
 * value or an unknown option throws a {@link ConfigurationError} naming it. Durations are in
 * seconds unless the name says otherwise (`timeouts` are in milliseconds).
 */
export interface DescopeMcpAuthOptions {
  /**
   * The Descope issuer, e.g. `https://api.descope.com/v1/apps/agentic/P…/M…` (an MCP server's issuer)
   * or `https://api.descope.com/v1/apps/P…`. The project ID is read from its path (else give
   * `projectId`). Give this or `wellKnownURL`, not both.
   */
  issuerURL?: string;
  /**
   * The discovery URL, `<issuer>/.well-known/openid-configuration` (or the RFC 8414
   * `oauth-authorization-server` form): the issuer is derived from it. Give this or `issuerURL`, not both.
   */
  wellKnownURL?: string;
  /**
   * A Descope project ID (`P` and 27 or 31 letters and digits). Alone, the issuer becomes
   * `<descopeBaseURL>/v1/apps/<P>`; with `issuerURL` or `wellKnownURL` it must match the project
   * in that URL (or supplies it when the URL names none).
   */
  projectId?: string;
  /** Descope API base URL. Default: the issuer's origin, else the project's region, else `https://api.descope.com`. */
  descopeBaseURL?: string;
  /** This server's public origin (optionally with a path prefix), e.g. `https://mcp.example.com`. */
  baseURL: string;
  /**
   * Where the MCP endpoint is served: a path starting with `/`, without query or fragment (trailing
   * slashes are dropped). Default `/mcp`. The gate covers every spelling of it a router may match
   * (case, %-escapes, repeated slashes, sub-paths).
   */
  mcpPath?: string;
  /** Accepted `aud` values. Default: the resource URL (`baseURL + mcpPath`). */
  audience?: string | string[];
  /**
   * Scopes every MCP request needs (else 403 `insufficient_scope`). A token's scope ending in `:*`
   * covers the scopes below it (`a:*` covers `a:b`).
   */
  requiredScopes?: string[];
  /**
   * Tool name → scopes a `tools/call` of that tool needs (on top of `requiredScopes`). When set, the
   * gate reads and checks the body of every POST (see {@link DescopeMcpAuthOptions.bodyLimit}).
   */
  toolScopes?: Record<string, string[]>;
  /**
   * Scopes named in 401 challenges: what a client asks for on its first authorization. Default:
   * `requiredScopes`, or `["openid"]` when there are none — least privilege: per-tool scopes are
   * requested later by step-up, on the 403 of the first call that needs them. `[]` names none (clients
   * then ask for every scope in `scopes_supported`).
   */
  challengeScopes?: string[];
  /**
   * Scopes advertised in the protected resource metadata (`scopes_supported`). Default: the required,
   * challenge and tool scopes. `offline_access` is never advertised.
   */
  scopesSupported?: string[];
  /** Human-readable name for the protected resource metadata (`resource_name`). */
  resourceName?: string;
  /** Documentation URL for the protected resource metadata (`resource_documentation`): an absolute http(s) URL. */
  resourceDocumentation?: string;
  /**
   * Descope management key, for {@link DescopeMcpAuth.management} and connection calls with
   * `useManagementKey`. A secret: never logged or put in error messages.
   */
  managementKey?: string;
  /** Accepted JWS algorithms. Default `["RS256"]`. Symmetric algorithms and `none` are refused. */
  algorithms?: string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds (0 to 300). Default 5. */
  clockToleranceSeconds?: number;
  /** Override the JWKS URL (default: the discovery document's `jwks_uri`). */
  jwksURL?: string;
  /** Tokens longer than this many characters are refused before any crypto work (256 to 1048576). Default 8192. */
  maxTokenLength?: number;
  /** An unknown `kid` refetches the JWKS at most once per this many seconds (0 to 86400). Default 30. */
  jwksCooldownSeconds?: number;
  /** The JWKS is refreshed (in the background) once older than this many seconds (0 to 86400). Default 600. */
  jwksMaxAgeSeconds?: number;
  /**
   * The discovery (authorization-server metadata) document is cached this many seconds (0 to 86400),
   * then refreshed in the background; also its `Cache-Control: max-age` on the metadata route. Default 3600.
   */
  metadataMaxAgeSeconds?: number;
  /** After a failed upstream fetch with nothing cached, fail fast (503) for this many seconds (0 to 300). Default 2. */
  failureBackoffSeconds?: number;
  /**
   * Verified-token cache: a repeated token skips signature work (expiry is still checked on every
   * use). `false` disables it. Default `{ maxEntries: 10000, maxAgeSeconds: 300 }`.
   */
  tokenCache?:
    | false
    | {
        /** Most verified tokens kept (0 to 10000000); the oldest is evicted first, `0` keeps none. Default 10000. */
        maxEntries?: number;
        /**
         * A cached token is verified again (signature and all) once it has been cached this many
         * seconds (0 to 86400), whatever its `exp`. Default 300.
         */
        maxAgeSeconds?: number;
      };
  /**
   * Connection-token cache, per caller token, user or tenant, app and scopes, until
   * `refreshSkewSeconds` before the token expires. `false` disables it. Default
   * `{ maxEntries: 1000, refreshSkewSeconds: 60 }`.
   */
  connectionCache?:
    | false
    | {
        /** Most connection tokens kept (0 to 1000000); the oldest is evicted first, `0` keeps none. Default 1000. */
        maxEntries?: number;
        /** A cached connection token is fetched again this many seconds (0 to 3600) before it expires. Default 60. */
        refreshSkewSeconds?: number;
      };
  /**
   * Upstream time limits, in milliseconds (whole numbers from 1 to 120000): `request` (the most one
   * request waits for upstream work, default 5000), `discovery` (5000), `jwks` (5000), `connections`
   * (10000) and `management` (10000).
   */
  timeouts?: Timeouts;
  /**
   * The most bytes a gate reads of a request body (for per-tool scopes): a number of bytes or a
   * size such as `"4mb"`. Larger bodies are refused with 413. Default `"4mb"`.
   */
  bodyLimit?: number | string;
  /**
   * Answer CORS preflights (`OPTIONS`) on the MCP endpoint with 204 and let browsers read the
   * challenge (`Access-Control-Expose-Headers: WWW-Authenticate, …`). Default `true`.
   */
  cors?: boolean;
  /**
   * Run every authenticated request with its session as the current one, so `getSession()` (and
   * `requireSession()`) without an argument find the caller anywhere below the gate, across `await`s,
   * through the runtime's `AsyncLocalStorage`. Default `false`: the caller is always handed over
   * explicitly (the MCP SDK's `authInfo`, which tools read with `getSession(ctx)`; `req.auth`;
   * `c.get("session")`), and no request pays for the storage — on Node 20 and 22
   * `AsyncLocalStorage` slows down every promise in the process once it is in use. On a runtime
   * without `AsyncLocalStorage` (Cloudflare Workers without `nodejs_compat`), `true` is a
   * `ConfigurationError`.
   */
  sessionContext?: boolean;
  /**
   * The JSON body's `error` for an expired token: `"invalid_token"` (default, RFC 6750) or
   * `"token_expired"`, what `@xmcp-dev/descope` answered, for clients written against it. The status
   * (401) and the challenge (`error="invalid_token"`) are the same either way.
   */
  expiredTokenError?: "invalid_token" | "token_expired";
  /** `fetch` implementation for every upstream call to Descope. Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /**
   * Audit hook: called synchronously with every allow/deny decision ({@link AuthEvent}). It never
   * receives the token; exceptions it throws are ignored and never change the decision.
   */
  onEvent?: (event: AuthEvent) => void;
  /**
   * Keeps a shared upstream fetch (discovery, JWKS) alive after the request that started it has
   * been answered — a background key refresh, or a fetch a request stopped waiting for at its
   * deadline. Runtimes that end a request's I/O with its response need it: on Cloudflare Workers
   * pass `waitUntil` from `cloudflare:workers`. Called with each such fetch as it starts.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Clock (ms since the epoch) for token times and cache ages, for tests. Default `Date.now`. */
  now?: () => number;
}

const ASYMMETRIC_ALGS = JWS_ALGORITHMS;

const httpURL = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === "https:" || u.protocol === "http:") && !u.username && !u.password;
  } catch {
    return false;
  }
}, "must be an absolute http(s) URL");

const scope = z
  .string()
  .regex(SCOPE_TOKEN, "must be a scope token (printable ASCII, no spaces, quotes or backslashes)");
const scopes = z.array(scope);
const seconds = (max: number) => z.number().finite().min(0).max(max);
const ms = z.number().int().min(1).max(120_000);

const schema = z.strictObject({
  issuerURL: httpURL.optional(),
  wellKnownURL: httpURL.optional(),
  projectId: z.string().optional(),
  descopeBaseURL: httpURL.optional(),
  baseURL: httpURL.refine((v) => {
    try {
      const u = new URL(v);
      return !u.search && !u.hash;
    } catch {
      return true; // reported by the URL check
    }
  }, "must be an origin (optionally with a path), without query or fragment"),
  mcpPath: z
    .string()
    // Unreserved characters only (RFC 3986 §2.3): routers treat `:`, `*`, `(`, `%` and the like as syntax.
    .regex(/^\/[A-Za-z0-9._~/-]*$/, "must be a path starting with '/', of letters, digits, '.', '_', '~', '-' and '/'")
    .optional(),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  requiredScopes: scopes.optional(),
  toolScopes: z.record(z.string().min(1), scopes).optional(),
  scopesSupported: scopes.optional(),
  challengeScopes: scopes.optional(),
  resourceName: z.string().min(1).optional(),
  resourceDocumentation: httpURL.optional(),
  managementKey: z.string().min(1).optional(),
  algorithms: z
    .array(z.enum(ASYMMETRIC_ALGS, { error: `must list only asymmetric algorithms (${ASYMMETRIC_ALGS.join(", ")})` }))
    .min(1)
    .optional(),
  clockToleranceSeconds: seconds(300).optional(),
  jwksURL: httpURL.optional(),
  maxTokenLength: z.number().int().min(256).max(1_048_576).optional(),
  jwksCooldownSeconds: seconds(86_400).optional(),
  jwksMaxAgeSeconds: seconds(86_400).optional(),
  metadataMaxAgeSeconds: seconds(86_400).optional(),
  failureBackoffSeconds: seconds(300).optional(),
  tokenCache: z
    .union([
      z.literal(false),
      z.strictObject({
        maxEntries: z.number().int().min(0).max(10_000_000).optional(),
        maxAgeSeconds: seconds(86_400).optional(),
      }),
    ])
    .optional(),
  connectionCache: z
    .union([
      z.literal(false),
      z.strictObject({
        maxEntries: z.number().int().min(0).max(1_000_000).optional(),
        refreshSkewSeconds: seconds(3600).optional(),
      }),
    ])
    .optional(),
  bodyLimit: z
    .union([
      z
        .number()
        .int()
        .min(1)
        .max(1024 ** 3),
      z.string().regex(/^\s*\d{1,12}(?:\.\d{1,6})?\s*(?:b|kb|mb|gb)?\s*$/i, 'must be a size such as "4mb"'),
    ])
    .optional(),
  cors: z.boolean().optional(),
  sessionContext: z.boolean().optional(),
  expiredTokenError: z.enum(["invalid_token", "token_expired"]).optional(),
  timeouts: z
    .strictObject({
      request: ms.optional(),
      discovery: ms.optional(),
      jwks: ms.optional(),
      connections: ms.optional(),
      management: ms.optional(),
    })
    .optional(),
  fetch: z.custom<FetchLike>((v) => typeof v === "function", "must be a function").optional(),
  onEvent: z.custom<(event: AuthEvent) => void>((v) => typeof v === "function", "must be a function").optional(),
  waitUntil: z
    .custom<(promise: Promise<unknown>) => void>((v) => typeof v === "function", "must be a function")
    .optional(),
  now: z.custom<() => number>((v) => typeof v === "function", "must be a function").optional(),
});

/**
 * Options after validation, with every default applied and every duration in milliseconds (the
 * `…Ms` fields). Read it as `auth.config` ({@link DescopeMcpAuth.config}).
 */
export interface ResolvedOptions {
  /** {@link DescopeMcpAuthOptions.issuerURL}, as given. */
  issuerURL?: string | undefined;
  /** {@link DescopeMcpAuthOptions.wellKnownURL}, as given. */
  wellKnownURL?: string | undefined;
  /** {@link DescopeMcpAuthOptions.projectId}, as given (the resolved one is `auth.config.issuer.projectId`). */
  projectId?: string | undefined;
  /** {@link DescopeMcpAuthOptions.descopeBaseURL}, as given. */
  descopeBaseURL?: string | undefined;
  /** This server's public origin (and path prefix), without trailing slashes. */
  baseURL: string;
  /** The MCP endpoint path, without trailing slashes (`/` when the endpoint is the root). Default `/mcp`. */
  mcpPath: string;
  /**
   * This server's resource identifier: `baseURL` + `mcpPath` (just `baseURL` when `mcpPath` is `/`).
   * The `resource` of the protected resource metadata and the default audience.
   */
  resourceURL: string;
  /** Accepted `aud` values (a token needs one of them). Default `[resourceURL]`. */
  audience: string[];
  /** {@link DescopeMcpAuthOptions.requiredScopes}, deduplicated (default none). */
  requiredScopes: string[];
  /** {@link DescopeMcpAuthOptions.toolScopes}, each list deduplicated (default none). */
  toolScopes: Record<string, string[]>;
  /**
   * The advertised `scopes_supported`: the option, or the required, challenge and tool scopes;
   * deduplicated, without `offline_access`.
   */
  scopesSupported: string[];
  /** The scopes named in 401 challenges: the option, or `requiredScopes`, or `["openid"]`; deduplicated. */
  challengeScopes: string[];
  /** {@link DescopeMcpAuthOptions.resourceName}. */
  resourceName?: string | undefined;
  /** {@link DescopeMcpAuthOptions.resourceDocumentation}. */
  resourceDocumentation?: string | undefined;
  /** {@link DescopeMcpAuthOptions.managementKey}. A secret: never log `auth.config` as a whole. */
  managementKey?: string | undefined;
  /** Accepted JWS algorithms. Default `["RS256"]`. */
  algorithms: string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  clockToleranceSeconds: number;
  /** {@link DescopeMcpAuthOptions.jwksURL}; when unset, the discovery document's `jwks_uri` is used. */
  jwksURL?: string | undefined;
  /** Longest accepted token, in characters. Default 8192. */
  maxTokenLength: number;
  /** {@link DescopeMcpAuthOptions.jwksCooldownSeconds} in ms. Default 30000. */
  jwksCooldownMs: number;
  /** {@link DescopeMcpAuthOptions.jwksMaxAgeSeconds} in ms. Default 600000. */
  jwksMaxAgeMs: number;
  /** {@link DescopeMcpAuthOptions.metadataMaxAgeSeconds} in ms. Default 3600000. */
  metadataMaxAgeMs: number;
  /** {@link DescopeMcpAuthOptions.failureBackoffSeconds} in ms. Default 2000. */
  failureBackoffMs: number;
  /** The verified-token cache's limits, or `false` when it is disabled. */
  tokenCache:
    | {
        /** Most verified tokens kept. Default 10000. */
        maxEntries: number;
        /** {@link DescopeMcpAuthOptions.tokenCache}'s `maxAgeSeconds` in ms. Default 300000. */
        maxAgeMs: number;
      }
    | false;
  /** The connection-token cache's limits, or `false` when it is disabled. */
  connectionCache:
    | {
        /** Most connection tokens kept. Default 1000. */
        maxEntries: number;
        /** {@link DescopeMcpAuthOptions.connectionCache}'s `refreshSkewSeconds` in ms. Default 60000. */
        refreshSkewMs: number;
      }
    | false;
  /** Every upstream time limit, in ms, defaults applied. */
  timeouts: Required<Timeouts>;
  /** {@link DescopeMcpAuthOptions.bodyLimit}, in bytes. Default 4194304 (4 MiB). */
  bodyLimit: number;
  /** {@link DescopeMcpAuthOptions.cors}. Default `true`. */
  cors: boolean;
  /** {@link DescopeMcpAuthOptions.sessionContext}. Default `false`. */
  sessionContext: boolean;
  /** {@link DescopeMcpAuthOptions.expiredTokenError}. Default `"invalid_token"`. */
  expiredTokenError: "invalid_token" | "token_expired";
  /** The `fetch` used for every upstream call. */
  fetch: FetchLike;
  /** {@link DescopeMcpAuthOptions.onEvent}. */
  onEvent?: ((event: AuthEvent) => void) | undefined;
  /** {@link DescopeMcpAuthOptions.waitUntil}. */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
  /** The clock (ms since the epoch). Default `Date.now`. */
  now: () => number;
}

/** Field name → how to name it in an error (e.g. an environment variable). */
export type FieldNames = Partial<Record<string, string>>;

export function resolveOptions(input: unknown, fieldNames: FieldNames = {}): ResolvedOptions {
  if (input === null || typeof input !== "object") {
    throw new ConfigurationError("createDescopeMcpAuth expects an options object");
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const top = String(issue.path[0] ?? "");
    const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "options";
    const name = fieldNames[top] ?? field;
    let message: string;
    if (issue.code === "unrecognized_keys") {
      const keys = (issue as { keys: string[] }).keys;
      message = `Unknown option${keys.length > 1 ? "s" : ""} ${keys.map((k) => `'${k}'`).join(", ")}${issue.path.length ? ` in ${field}` : ""}`;
      throw new ConfigurationError(message, keys[0]);
    }
    if (issue.code === "invalid_type" && (issue as { input?: unknown }).input === undefined) {
      message = `${name} is required`;
    } else {
      message = `${name} ${issue.message}`;
    }
    throw new ConfigurationError(message, top || field);
  }
  const o = parsed.data;
  const baseURL = o.baseURL.replace(/\/+$/, "");
  // Trailing slashes are dropped; a path of slashes only is the root.
  const mcpPath = o.mcpPath === undefined ? "/mcp" : o.mcpPath.replace(/\/+$/, "") || "/";
  const resourceURL = `${baseURL}${mcpPath === "/" ? "" : mcpPath}`;
  const requiredScopes = [...new Set(o.requiredScopes ?? [])];
  const toolScopes: Record<string, string[]> = {};
  for (const [tool, list] of Object.entries(o.toolScopes ?? {})) toolScopes[tool] = [...new Set(list)];
  // The first sign-in asks for least privilege: the 401 always names scopes (the server-wide ones, or
  // `openid`), so clients never fall back to requesting everything in `scopes_supported`; per-tool
  // scopes are then asked for by step-up, on the 403 of the first call that needs them.
  const challengeScopes = [...new Set(o.challengeScopes ?? (requiredScopes.length > 0 ? requiredScopes : ["openid"]))];
  const supported = o.scopesSupported ?? [...requiredScopes, ...challengeScopes, ...Object.values(toolScopes).flat()];
  const fetchImpl = o.fetch ?? (globalThis.fetch?.bind(globalThis) as FetchLike | undefined);
  if (!fetchImpl) throw new ConfigurationError("No fetch implementation is available; pass options.fetch", "fetch");
  return {
    issuerURL: o.issuerURL,
    wellKnownURL: o.wellKnownURL,
    projectId: o.projectId,
    descopeBaseURL: o.descopeBaseURL,
    baseURL,
    mcpPath,
    resourceURL,
    audience:
      o.audience === undefined ? [resourceURL] : typeof o.audience === "string" ? [o.audience] : [...o.audience],
    requiredScopes,
    toolScopes,
    // Never advertise offline_access on a resource (MCP authorization spec).
    scopesSupported: [...new Set(supported)].filter((s) => s !== "offline_access"),
    challengeScopes,
    resourceName: o.resourceName,
    resourceDocumentation: o.resourceDocumentation,
    managementKey: o.managementKey,
    algorithms: o.algorithms ?? ["RS256"],
    clockToleranceSeconds: o.clockToleranceSeconds ?? 5,
    jwksURL: o.jwksURL,
    maxTokenLength: o.maxTokenLength ?? 8192,
    jwksCooldownMs: (o.jwksCooldownSeconds ?? 30) * 1000,
    jwksMaxAgeMs: (o.jwksMaxAgeSeconds ?? 600) * 1000,
    metadataMaxAgeMs: (o.metadataMaxAgeSeconds ?? 3600) * 1000,
    failureBackoffMs: (o.failureBackoffSeconds ?? 2) * 1000,
    tokenCache:
      o.tokenCache === false
        ? false
        : { maxEntries: o.tokenCache?.maxEntries ?? 10_000, maxAgeMs: (o.tokenCache?.maxAgeSeconds ?? 300) * 1000 },
    connectionCache:
      o.connectionCache === false
        ? false
        : {
            maxEntries: o.connectionCache?.maxEntries ?? 1000,
            refreshSkewMs: (o.connectionCache?.refreshSkewSeconds ?? 60) * 1000,
          },
    bodyLimit: byteLimit(o.bodyLimit),
    cors: o.cors !== false,
    sessionContext: o.sessionContext === true,
    expiredTokenError: o.expiredTokenError ?? "invalid_token",
    timeouts: {
      request: o.timeouts?.request ?? 5000,
      discovery: o.timeouts?.discovery ?? 5000,
      jwks: o.timeouts?.jwks ?? 5000,
      connections: o.timeouts?.connections ?? 10_000,
      management: o.timeouts?.management ?? 10_000,
    },
    fetch: fetchImpl,
    onEvent: o.onEvent,
    waitUntil: o.waitUntil,
    now: o.now ?? Date.now,
  };
}

/** Environment variable → the option it sets, as read by {@link createDescopeMcpAuthFromEnv}. */
export const ENV_VARS = {
  /** Sets {@link DescopeMcpAuthOptions.issuerURL}. */
  DESCOPE_ISSUER_URL: "issuerURL",
  /** Sets {@link DescopeMcpAuthOptions.wellKnownURL}. */
  DESCOPE_WELL_KNOWN_URL: "wellKnownURL",
  /** Sets {@link DescopeMcpAuthOptions.projectId}. */
  DESCOPE_PROJECT_ID: "projectId",
  /** Sets {@link DescopeMcpAuthOptions.descopeBaseURL}. */
  DESCOPE_BASE_URL: "descopeBaseURL",
  /** Sets {@link DescopeMcpAuthOptions.baseURL}. */
  BASE_URL: "baseURL",
  /** Sets {@link DescopeMcpAuthOptions.mcpPath}. */
  MCP_PATH: "mcpPath",
  /** Sets {@link DescopeMcpAuthOptions.managementKey}. */
  DESCOPE_MANAGEMENT_KEY: "managementKey",
} as const;

export const ENV_FIELD_NAMES: FieldNames = Object.fromEntries(
  Object.entries(ENV_VARS).map(([env, field]) => [field, env]),
);

/** Reads the documented environment variables into options (empty strings count as unset). */
export function optionsFromEnv(env: Record<string, string | undefined>): Partial<DescopeMcpAuthOptions> {
  const out: Record<string, string> = {};
  for (const [name, field] of Object.entries(ENV_VARS)) {
    const value = env[name]?.trim();
    if (value) out[field] = value;
  }
  return out as Partial<DescopeMcpAuthOptions>;
}
