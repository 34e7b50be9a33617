import { type BodyHeaders, bodyForPolicy, checkBodyHeaders, declaredLength } from "./body.js";
import { CachedValue } from "./cache.js";
import { type AuthErrorResult, errorResult, toResponse } from "./challenge.js";
import {
  type AuthEvent,
  type DescopeMcpAuthOptions,
  ENV_FIELD_NAMES,
  optionsFromEnv,
  type ResolvedOptions,
  resolveOptions,
} from "./config.js";
import {
  type ConnectionToken,
  ConnectionTokenCache,
  type DescopeApiContext,
  type GetTenantConnectionTokenParams,
  type GetUserConnectionTokenParams,
  getTenantConnectionToken,
  getUserConnectionToken,
} from "./connections.js";
import {
  ConfigurationError,
  DescopeMcpError,
  InsufficientScopeError,
  InvalidTokenError,
  MethodNotAllowedError,
  TokenExpiredError,
  UpstreamUnavailableError,
} from "./errors.js";
import { isUnderMcpPath, MCP_METHODS, readWebBody } from "./gate.js";
import { beforeDeadline, upstreamJson } from "./http.js";
import { createIssuerMatcher, type DescopeIssuer, resolveIssuer } from "./issuer.js";
import { KeyStore } from "./keys.js";
import { type DescopeUser, loadUser } from "./management.js";
import {
  AS_WELL_KNOWN,
  MCP_CORS_HEADERS,
  MCP_PREFLIGHT,
  metadataResponse,
  PRM_WELL_KNOWN,
  type ProtectedResourceMetadata,
  prmPathFor,
} from "./metadata.js";
import { type AuthenticateInput, bearerCredentials, checkBearerToken } from "./request.js";
import { hasScopes, requireScopes, scopesForRequest } from "./scopes.js";
import { type DescopeSession, type McpAuthInfo, sessionOwning, toAuthInfo } from "./session.js";
import { enableSessionContext, runWithSession } from "./session-store.js";
import { TokenCache, type TokenCacheStats } from "./token-cache.js";
import { type VerifiedClaims, verifyAccessToken } from "./verify.js";

/**
 * How {@link DescopeMcpAuth.authenticate} (and {@link DescopeMcpAuth.gate}) get the request body
 * for the per-tool policy. Used only when {@link DescopeMcpAuthOptions.toolScopes} are configured
 * and the request is a POST (or its method is not given).
 */
export interface AuthenticateOptions {
  /**
   * The JSON-RPC body exactly as the MCP transport will dispatch it: the parsed value, or its raw
   * text or bytes (parsed strictly). When `toolScopes` are configured and the request is a POST,
   * the body is required: `undefined` is refused (400), never read as "no tool called".
   */
  body?: unknown;
  /**
   * Reads the body lazily, once: called only after the token passed and only when `toolScopes` are
   * configured, so unauthenticated requests never cost a body read. It gets the byte limit and must
   * resolve the raw text or bytes (or a value a body parser produced), or throw a typed error
   * (`InvalidRequestError`, `PayloadTooLargeError`). Ignored when `body` is given.
   */
  readBody?: (limit: number) => Promise<unknown>;
  /**
   * The body's `Content-Type`, `Content-Encoding` and `Content-Length`, checked before it is read
   * (see {@link checkBodyHeaders}). For a Web `Request` they default to its own headers.
   */
  bodyHeaders?: BodyHeaders;
  /**
   * Scopes this route needs on top of `requiredScopes` (a framework's per-route requirement, such as
   * Nest's `@RequireScopes()`). They are checked in the same decision as the server-wide and per-tool
   * scopes, so one 403 names every scope the request needs.
   */
  routeScopes?: readonly string[];
  /**
   * `false` for a route that is not the MCP endpoint (a framework guard protecting the app's other
   * routes too): the token, `requiredScopes` and `routeScopes` are checked, but no body is read and no
   * per-tool scope applies. Default `true`.
   */
  mcpEndpoint?: boolean;
}

/** What a Node (or any non-Web) gate hands the core for one request to the MCP endpoint. */
export interface GateInput extends AuthenticateInput, AuthenticateOptions {
  /** The HTTP method. */
  method: string;
}

/** The core's decision for one request to the MCP endpoint. */
export type GateOutcome =
  | {
      /** Answer the client with `result` (preflight, 405, or the challenge); the MCP handler must not run. */
      allow: false;
      /** The answer to write verbatim: status, headers and body. */
      result: AuthErrorResult;
    }
  | {
      /** Go on to the MCP handler, with these. */
      allow: true;
      /** The caller's verified session. */
      session: DescopeSession;
      /** The caller as the MCP SDK's `AuthInfo`: set it as `req.auth` for the transport. */
      authInfo: McpAuthInfo;
      /**
       * The parsed body the gate judged, when it read one: the MCP transport must get exactly this
       * (`req.body`, `parsedBody`) and must not read the request stream again.
       */
      body: unknown;
      /** Headers to add to the MCP handler's response (CORS). */
      headers: Readonly<Record<string, string>>;
    }
  | {
      /** Not the gate's to decide (an `OPTIONS` request with `cors: false`): go on without a session. */
      allow: "pass";
    };

/** What `handle` / `protect` hand an MCP request handler. */
export interface McpRequestContext {
  /** The MCP SDK `AuthInfo` of the caller (give it to the transport as `authInfo`). */
  authInfo: McpAuthInfo;
  /** The caller's verified Descope session (also `authInfo.extra.session`). */
  session: DescopeSession;
  /**
   * The parsed JSON-RPC body the gate judged (give it to the transport as `parsedBody`), or
   * `undefined` when no per-tool policy needed it (the transport then reads the request itself).
   */
  parsedBody: unknown;
}

/** An MCP request handler behind the Web-standard gate. */
export type McpRequestHandler = (request: Request, context: McpRequestContext) => Response | Promise<Response>;

/** What `handle` may be told about a request an earlier layer of the host already worked on. */
export interface HandleOptions {
  /**
   * The value an earlier layer parsed from the request body (e.g. Hono's `c.get("parsedBody")`).
   * Used only when that layer consumed the body stream: otherwise the gate reads the bytes itself
   * (and the handler gets its own parse). A consumed body without it is refused (400).
   */
  parsedBody?: unknown;
}

/** Options of {@link DescopeMcpAuth.protect}. */
export interface ProtectOptions {
  /**
   * Answers requests that are neither the MCP endpoint nor the metadata routes (e.g. `/health`).
   * Default: 404. They reach it unauthenticated.
   */
  fallback?: (request: Request) => Response | Promise<Response>;
}

/** The configured engine. Create one per server with `createDescopeMcpAuth`. */
export interface DescopeMcpAuth {
  /** The resolved configuration: issuer, project, URLs, scopes. */
  readonly config: Readonly<ResolvedOptions> & {
    /**
     * What the Descope settings resolved to: the issuer, project ID, MCP server ID, region, API base,
     * discovery and fallback JWKS URLs.
     */
    readonly issuer: Readonly<DescopeIssuer>;
    /** Absolute URL of the path-aware protected resource metadata. */
    readonly resourceMetadataURL: string;
  };
  /**
   * Verifies an access token (signature, issuer, audience, times) and maps it to a session. Throws
   * {@link InvalidTokenError}, {@link TokenExpiredError} or, when Descope's keys cannot be had in time,
   * {@link UpstreamUnavailableError}. Scopes are not checked, and no {@link AuthEvent} is emitted.
   */
  verifyToken(token: string): Promise<DescopeSession>;
  /**
   * Authenticates a request: one Bearer header, no token in the query string, a valid token,
   * `requiredScopes`, and the `toolScopes` of every `tools/call` in the body (`options.body` or
   * `options.readBody`). Resolves the session, or rejects with the refusal (a `DescopeMcpError`:
   * turn it into the answer with {@link DescopeMcpAuth.errorResult}). Emits one {@link AuthEvent}.
   * The method is not checked (that is {@link DescopeMcpAuth.gate}'s job).
   */
  authenticate(request: Request | AuthenticateInput, options?: AuthenticateOptions): Promise<DescopeSession>;
  /**
   * The scopes an MCP request with this body needs (server-wide plus per-tool). The body may be
   * parsed JSON, text or bytes; one that is not JSON-RPC needs only the server-wide scopes.
   */
  scopesFor(body?: unknown): string[];
  /**
   * Throws {@link InsufficientScopeError} unless the session covers the scopes (with `a:*` hierarchy:
   * `a:*` covers `a:b`).
   */
  requireScopes(session: DescopeSession, scopes: readonly string[] | string): void;
  /**
   * Whether the session covers the scopes (with `a:*` hierarchy): {@link DescopeMcpAuth.requireScopes}
   * without the throw.
   */
  hasScopes(session: DescopeSession, scopes: readonly string[] | string): boolean;
  /**
   * The HTTP answer for an error: status, headers (for 400/401/403 a `WWW-Authenticate` challenge
   * with this server's `resource_metadata` and the scopes to ask for; `Retry-After` for 503; `Allow`
   * for 405), JSON body. Configuration errors and unknown errors become a 500 that reveals nothing.
   */
  errorResult(error: unknown): AuthErrorResult;
  /** `errorResult` as a Web `Response`. */
  errorResponse(error: unknown): Response;
  /** RFC 9728 protected resource metadata for this server (a fresh object on every call). */
  protectedResourceMetadata(): ProtectedResourceMetadata;
  /**
   * Descope's authorization-server metadata: the discovery document, fetched once and cached for
   * `metadataMaxAgeSeconds` (refreshed in the background). Rejects with {@link UpstreamUnavailableError}
   * when it cannot be fetched.
   */
  authorizationServerMetadata(): Promise<Record<string, unknown>>;
  /**
   * Answers the well-known routes (path-aware and root PRM, AS metadata) for any method (405 with
   * `Allow` for those it does not serve); `undefined` for any other path. Takes a `Request`, or just
   * the method and path (so a Node adapter never has to build a `Request` from what a client sent).
   */
  handleMetadata(request: Request | { method: string; path: string }): Promise<Response | undefined>;
  /**
   * The whole decision for one request to the MCP endpoint, for adapters that are not Web-standard:
   * CORS preflight, methods, the bearer token, `requiredScopes`, and `toolScopes` over the body read
   * by `readBody`. Never throws: every refusal is a ready answer.
   */
  gate(input: GateInput): Promise<GateOutcome>;
  /**
   * The Web-standard gate: answers the metadata routes and CORS preflight, gates the MCP endpoint
   * (`mcpPath` and every spelling of it a router may match) and calls `handler` with the caller's
   * `authInfo`, session and the parsed body; `undefined` for any other path (not this gate's), and
   * for an `OPTIONS` request when `cors` is off (the host answers it). Never throws for anything a
   * client sends; the handler's own errors propagate.
   */
  handle(request: Request, handler: McpRequestHandler, options?: HandleOptions): Promise<Response | undefined>;
  /** `handle` as a `fetch` handler: other paths go to `options.fallback` (default 404). */
  protect(handler: McpRequestHandler, options?: ProtectOptions): (request: Request) => Promise<Response>;
  /** Whether `pathname` is exactly one of the metadata routes `handleMetadata` answers. */
  isMetadataPath(pathname: string): boolean;
  /**
   * The session as the MCP SDK's `AuthInfo`, with this server's `resourceMetadataUrl`. Frozen, and
   * made once per session: like the session, it serves every request that carries the same token.
   */
  toAuthInfo(session: DescopeSession): McpAuthInfo;
  /**
   * Runs `fn` — the rest of an authenticated request — with `session` as the current session when the
   * `sessionContext` option is on (so `getSession()` finds it anywhere below), else just runs it.
   * Returns what `fn` returns. Adapters call it; `handle` does it for its handler.
   */
  runInSession<T>(session: DescopeSession, fn: () => T): T;
  /**
   * Descope outbound-app (connection) tokens: third-party access tokens Descope keeps for users and
   * tenants. Cached per {@link DescopeMcpAuthOptions.connectionCache}; each call is limited by
   * `timeouts.connections`. Rejects with {@link InvalidRequestError} (no `appId`, user or tenant ID,
   * no credentials), {@link ConfigurationError} (`useManagementKey` without a management key),
   * {@link ConnectionNotFoundError} (404), {@link ConnectionDeniedError} (403), {@link UpstreamError}
   * (another answer) or {@link UpstreamUnavailableError} (unreachable, time-out, 5xx).
   */
  readonly connections: {
    /**
     * A user's third-party token, by scopes when `scopes` is given, else the latest one. The caller's
     * token (`session` or `accessToken`) authenticates the call unless `useManagementKey` is set.
     */
    getToken(params: GetUserConnectionTokenParams): Promise<ConnectionToken>;
    /** A tenant's third-party token, by scopes when `scopes` is given, else the latest one. */
    getTenantToken(params: GetTenantConnectionTokenParams): Promise<ConnectionToken>;
  };
  /**
   * The Descope management API, authenticated with {@link DescopeMcpAuthOptions.managementKey} (a
   * {@link ConfigurationError} without one); each call is limited by `timeouts.management`.
   */
  readonly management: {
    /**
     * Loads a user by user ID. Rejects with {@link UserNotFoundError} (404), {@link InvalidRequestError}
     * (empty ID), {@link UpstreamError} or {@link UpstreamUnavailableError}.
     */
    getUser(userId: string): Promise<DescopeUser>;
    /** Loads a user by login ID (email, phone, username, …); fails like `getUser`. */
    getUserByLoginId(loginId: string): Promise<DescopeUser>;
  };
  /** Counters since the engine was created, for observability, tests and benchmarks. */
  stats(): {
    /** JWKS fetches started (failed ones included). */
    jwksFetches: number;
    /** Discovery document fetches started (failed ones included). */
    metadataFetches: number;
    /** The verified-token cache (all zero when it is disabled). */
    tokenCache: TokenCacheStats;
    /** The connection-token cache (calls with `cache: false` are not counted). */
    connectionCache: {
      /** Calls answered from the cache or joined to an identical call in flight. */
      hits: number;
      /** Calls that went to Descope through the cache. */
      misses: number;
      /** Connection tokens held now. */
      size: number;
    };
  };
}

/** How long past its own time limit an upstream load may stay unsettled before it counts as lost. */
const ABANDON_GRACE_MS = 1000;
/** The largest unread body a refusal reads to its end (so the connection stays usable), and for how long. */
const DRAIN_LIMIT_BYTES = 64 * 1024;
const DRAIN_WAIT_MS = 1000;

/** Creates the engine. Validates every option now and throws one `ConfigurationError` naming the bad field. */
export function createDescopeMcpAuth(options: DescopeMcpAuthOptions): DescopeMcpAuth {
  return build(resolveOptions(options));
}

/**
 * Creates the engine from environment variables (`DESCOPE_ISSUER_URL`, `DESCOPE_WELL_KNOWN_URL`,
 * `DESCOPE_PROJECT_ID`, `DESCOPE_BASE_URL`, `BASE_URL`, `MCP_PATH`, `DESCOPE_MANAGEMENT_KEY`);
 * `overrides` win. Errors name the variable.
 */
export function createDescopeMcpAuthFromEnv(
  env: Record<string, string | undefined> = (globalThis as { process?: { env: Record<string, string | undefined> } })
    .process?.env ?? {},
  overrides: Partial<DescopeMcpAuthOptions> = {},
): DescopeMcpAuth {
  const fromEnv = optionsFromEnv(env);
  try {
    return build(resolveOptions({ ...fromEnv, ...overrides }, ENV_FIELD_NAMES));
  } catch (error) {
    if (error instanceof ConfigurationError && error.field && !(error.field in overrides)) {
      let message = error.message;
      for (const [field, envName] of Object.entries(ENV_FIELD_NAMES)) {
        if (envName) message = message.replace(new RegExp(`\\b${field}\\b`, "g"), envName);
      }
      throw new ConfigurationError(message, ENV_FIELD_NAMES[error.field] ?? error.field);
    }
    throw error;
  }
}

/**
 * The engine's `config`: frozen, with `managementKey` kept out of enumeration so that logging or
 * serializing the configuration never prints the secret (it can still be read, e.g. to check that one
 * is configured).
 */
function frozenConfig(options: ResolvedOptions, issuer: DescopeIssuer, resourceMetadataURL: string) {
  const { managementKey, ...visible } = options;
  const config = { ...visible, issuer: Object.freeze({ ...issuer }), resourceMetadataURL };
  Object.defineProperty(config, "managementKey", { value: managementKey, enumerable: false });
  return Object.freeze(config) as DescopeMcpAuth["config"];
}

function build(options: ResolvedOptions): DescopeMcpAuth {
  // First: a runtime that cannot keep a session context fails here, not on the first request.
  if (options.sessionContext && !enableSessionContext()) {
    throw new ConfigurationError(
      "sessionContext needs AsyncLocalStorage, which this runtime does not provide (on Cloudflare Workers enable the nodejs_compat flag); leave it off and read the caller with getSession(ctx) in tools, or from the request context",
      "sessionContext",
    );
  }
  const issuer = resolveIssuer(options);
  const isAcceptedIssuer = createIssuerMatcher(issuer);
  const resourceMetadataURL = `${new URL(options.baseURL).origin}${prmPathFor(options.resourceURL)}`;
  const prmPath = prmPathFor(options.resourceURL);
  const policy = { requiredScopes: options.requiredScopes, toolScopes: options.toolScopes };
  const hasToolScopes = Object.keys(options.toolScopes).length > 0;
  /** The policy of a route that needs `scopes` on top of the server-wide ones (strings only, each once). */
  const withRouteScopes = (scopes: readonly string[]) => ({
    requiredScopes: [
      ...new Set([...policy.requiredScopes, ...scopes.filter((s) => typeof s === "string" && s !== "")]),
    ],
    toolScopes: policy.toolScopes,
  });

  const discovery = new CachedValue<Record<string, unknown>>(
    async () => {
      const { status, json } = await upstreamJson(options.fetch, {
        url: issuer.discoveryURL,
        timeoutMs: options.timeouts.discovery,
        what: "discovery document",
      });
      if (status !== 200 || json === null || typeof json !== "object" || Array.isArray(json)) {
        throw new UpstreamUnavailableError(
          `Descope discovery document answered ${status === 200 ? "something that is not a JSON object" : `HTTP ${status}`}`,
        );
      }
      return json as Record<string, unknown>;
    },
    {
      maxAgeMs: options.metadataMaxAgeMs,
      failureBackoffMs: options.failureBackoffMs,
      now: options.now,
      // Workers: a fetch started by a request that has ended may never settle; never wait on it forever.
      abandonAfterMs: options.timeouts.discovery + ABANDON_GRACE_MS,
      onLoad: options.waitUntil,
    },
  );

  const keys = new KeyStore({
    fetch: options.fetch,
    jwksURL: async () => {
      if (options.jwksURL) return options.jwksURL;
      try {
        // Discovery may use half of a request's budget; the rest is left for the JWKS itself, so a
        // hanging discovery still lets the first request through on the well-known JWKS.
        const wait = Math.min(options.timeouts.discovery, Math.floor(options.timeouts.request / 2));
        const doc = await beforeDeadline(discovery.get(), Date.now() + wait);
        if (typeof doc.jwks_uri === "string" && /^https?:\/\//.test(doc.jwks_uri)) return doc.jwks_uri;
      } catch {
        // Discovery unavailable: fall back to Descope's well-known JWKS location.
      }
      return issuer.fallbackJwksURL;
    },
    timeoutMs: options.timeouts.jwks,
    // The discovery wait (when discovery is asked: at most half the request budget) plus the JWKS
    // fetch, then given up.
    abandonAfterMs:
      (options.jwksURL ? 0 : Math.min(options.timeouts.discovery, Math.floor(options.timeouts.request / 2))) +
      options.timeouts.jwks +
      ABANDON_GRACE_MS,
    cooldownMs: options.jwksCooldownMs,
    maxAgeMs: options.jwksMaxAgeMs,
    failureBackoffMs: options.failureBackoffMs,
    now: options.now,
    onLoad: options.waitUntil,
  });

  const verifyPolicy = {
    algorithms: options.algorithms,
    audience: options.audience,
    clockToleranceSeconds: options.clockToleranceSeconds,
    maxTokenLength: options.maxTokenLength,
    isAcceptedIssuer,
    now: options.now,
  };

  const connectionTokens = new ConnectionTokenCache({
    maxEntries: options.connectionCache ? options.connectionCache.maxEntries : 0,
    refreshSkewMs: options.connectionCache ? options.connectionCache.refreshSkewMs : 0,
    now: options.now,
  });
  const api: DescopeApiContext = {
    connectionCache: options.connectionCache ? connectionTokens : undefined,
    fetch: options.fetch,
    apiBaseURL: issuer.apiBaseURL,
    projectId: issuer.projectId,
    managementKey: options.managementKey,
    timeoutMs: options.timeouts.connections,
  };
  const managementApi: DescopeApiContext = { ...api, timeoutMs: options.timeouts.management };

  const emit = (event: AuthEvent) => {
    if (!options.onEvent) return;
    try {
      options.onEvent(event);
    } catch {
      // An audit hook must never change the decision.
    }
  };

  const tokenCache = options.tokenCache
    ? new TokenCache({
        maxEntries: options.tokenCache.maxEntries,
        maxAgeMs: options.tokenCache.maxAgeMs,
        clockToleranceMs: options.clockToleranceSeconds * 1000,
        now: options.now,
      })
    : undefined;
  /** Verifications in flight, so concurrent first uses of one token share the crypto work. */
  const verifying = new Map<string, Promise<DescopeSession>>();

  /** A first verification; concurrent callers with the same token join it (one signature check). */
  const sessionContext = { projectId: issuer.projectId, resource: options.resourceURL };
  function verifyFresh(token: string, deadline: number): Promise<DescopeSession> {
    let verified: VerifiedClaims | undefined;
    const build = (claims: VerifiedClaims) => {
      verified = claims;
      return sessionOwning(token, claims, sessionContext);
    };
    return verifyAccessToken(token, keys, verifyPolicy, deadline, build).then(
      (session) => {
        verifying.delete(token);
        tokenCache?.set(token, session, verified as VerifiedClaims);
        return session;
      },
      (error: unknown) => {
        verifying.delete(token);
        throw error;
      },
    );
  }

  /**
   * Verifies `token`; upstream work it waits for (discovery, JWKS) must finish by `deadline` (ms
   * since the epoch, real time): one budget per request, however many fetches it needs.
   */
  function verifyWithin(token: string, deadline: number): Promise<DescopeSession> {
    try {
      const hit = cachedSession(token);
      if (hit !== undefined) return Promise.resolve(hit);
    } catch (error) {
      return Promise.reject(error);
    }
    return verifyUncached(token, deadline);
  }

  /** The session of a token verified before and still cached; throws `TokenExpiredError` once it expired. */
  function cachedSession(token: string): DescopeSession | undefined {
    return tokenCache !== undefined && typeof token === "string" ? tokenCache.get(token) : undefined;
  }

  /** Verifies a token the cache does not hold; concurrent first uses of one token share the work. */
  function verifyUncached(token: string, deadline: number): Promise<DescopeSession> {
    if (tokenCache !== undefined && typeof token === "string") {
      let pending = verifying.get(token);
      if (pending === undefined) {
        pending = verifyFresh(token, deadline);
        verifying.set(token, pending);
      }
      return pending;
    }
    return verifyFresh(token, deadline);
  }

  const verifyToken = (token: string) => verifyWithin(token, Date.now() + options.timeouts.request);

  /** `response` with `headers` added (a copy when its headers are immutable, as a `fetch` answer's are). */
  function withHeaders(response: Response, headers: Readonly<Record<string, string>>): Response {
    const names = Object.keys(headers);
    if (names.length === 0) return response;
    try {
      for (const name of names) response.headers.set(name, headers[name] as string);
      return response;
    } catch {
      const copy = new Response(response.body, response);
      for (const name of names) copy.headers.set(name, headers[name] as string);
      return copy;
    }
  }

  const protectedResourceMetadata = (): ProtectedResourceMetadata => {
    const prm: ProtectedResourceMetadata = {
      resource: options.resourceURL,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ["header"],
    };
    if (options.scopesSupported.length > 0) prm.scopes_supported = [...options.scopesSupported];
    if (options.resourceName) prm.resource_name = options.resourceName;
    if (options.resourceDocumentation) prm.resource_documentation = options.resourceDocumentation;
    return prm;
  };

  const errorResultFor = (error: unknown) =>
    errorResult(error, {
      resourceMetadata: resourceMetadataURL,
      scope: options.challengeScopes,
      expiredTokenError: options.expiredTokenError,
    });

  const metadataPaths = new Set([prmPath, PRM_WELL_KNOWN, AS_WELL_KNOWN]);

  /** The request's method and body headers, whether it came as a Web `Request` or as plain input. */
  function inputOf(
    request: Request | AuthenticateInput,
    opts: AuthenticateOptions | undefined,
  ): { input: AuthenticateInput; bodyHeaders: AuthenticateOptions["bodyHeaders"] } {
    if (typeof Request !== "undefined" && request instanceof Request) {
      const h = request.headers;
      return {
        input: { authorization: h.get("authorization"), url: request.url, method: request.method },
        bodyHeaders: opts?.bodyHeaders ?? {
          contentType: h.get("content-type"),
          contentEncoding: h.get("content-encoding"),
          contentLength: h.get("content-length"),
        },
      };
    }
    return { input: request as AuthenticateInput, bodyHeaders: opts?.bodyHeaders };
  }

  /** `method`: the request's method, upper-cased, when the caller already has it so. */
  async function authenticateRequest(
    request: Request | AuthenticateInput,
    opts: AuthenticateOptions | undefined,
    method: string | undefined = undefined,
  ): Promise<{ session: DescopeSession; body: unknown }> {
    const { input, bodyHeaders } = inputOf(request, opts);
    // The per-tool policy needs the body of every POST (and of a request whose method is unknown).
    const needsBody =
      hasToolScopes &&
      opts?.mcpEndpoint !== false &&
      (method !== undefined ? method === "POST" : input.method === undefined || input.method.toUpperCase() === "POST");
    const routePolicy = opts?.routeScopes?.length ? withRouteScopes(opts.routeScopes) : policy;
    let required = routePolicy.requiredScopes as string[];
    let tools: string[] = [];
    let session: DescopeSession | undefined;
    let body: unknown;
    try {
      // A token verified before is answered at once; only another one has its syntax checked (see
      // `bearerCredentials`) and is verified.
      const token = bearerCredentials(input);
      session = cachedSession(token);
      if (session === undefined) {
        checkBearerToken(token);
        session = await verifyUncached(token, Date.now() + options.timeouts.request);
      }
      if (needsBody) {
        if (bodyHeaders) checkBodyHeaders(bodyHeaders, options.bodyLimit);
        const raw =
          opts?.body !== undefined ? opts.body : opts?.readBody ? await opts.readBody(options.bodyLimit) : undefined;
        body = bodyForPolicy(raw);
        ({ scopes: required, tools } = scopesForRequest(body, routePolicy));
      }
      if (required.length > 0) requireScopes(session, required);
    } catch (error) {
      if (!options.onEvent) throw error;
      const mapped = error instanceof DescopeMcpError ? error : undefined;
      const event: AuthEvent = {
        type: "deny",
        reason: mapped?.code ?? "internal_error",
        status: mapped?.status ?? 500,
        requiredScopes: required,
      };
      if (tools.length) event.tools = tools;
      if (session) {
        event.userId = session.userId;
        if (session.clientId) event.clientId = session.clientId;
      }
      if (error instanceof InsufficientScopeError) event.missingScopes = [...error.missingScopes];
      if ((error instanceof InvalidTokenError || error instanceof TokenExpiredError) && error.tokenClaims) {
        event.tokenAudience = [...error.tokenClaims.audience];
        if (error.tokenClaims.issuer !== undefined) event.tokenIssuer = error.tokenClaims.issuer;
      }
      if (mapped) event.description = mapped.message;
      emit(event);
      throw error;
    }
    if (!options.onEvent) return { session, body };
    const event: AuthEvent = {
      type: "allow",
      reason: "ok",
      status: 200,
      userId: session.userId,
      requiredScopes: required,
    };
    if (session.clientId) event.clientId = session.clientId;
    if (tools.length) event.tools = tools;
    emit(event);
    return { session, body };
  }

  /** One frozen `AuthInfo` per session (sessions are shared by every request with the same token). */
  const authInfos = new WeakMap<DescopeSession, McpAuthInfo>();
  function authInfoOf(session: DescopeSession): McpAuthInfo {
    let info = authInfos.get(session);
    if (info === undefined) {
      const made = toAuthInfo(session);
      Object.freeze(made.scopes);
      if (made.extra) Object.freeze(made.extra);
      info = Object.freeze({ ...made, resourceMetadataUrl: resourceMetadataURL });
      authInfos.set(session, info);
    }
    return info;
  }

  const preflight = (): AuthErrorResult => ({ ...MCP_PREFLIGHT, headers: { ...MCP_PREFLIGHT.headers }, body: "" });
  const corsHeaders: Readonly<Record<string, string>> = options.cors ? MCP_CORS_HEADERS : Object.freeze({});

  async function gate(input: GateInput): Promise<GateOutcome> {
    const method = typeof input.method === "string" ? input.method.toUpperCase() : "";
    if (method === "OPTIONS") return options.cors ? { allow: false, result: preflight() } : { allow: "pass" };
    try {
      if (!MCP_METHODS.includes(method)) throw new MethodNotAllowedError(method, MCP_METHODS);
      const { session, body } = await authenticateRequest(input, input, method);
      return { allow: true, session, authInfo: authInfoOf(session), body, headers: corsHeaders };
    } catch (error) {
      return { allow: false, result: errorResultFor(error) };
    }
  }

  async function handle(
    request: Request,
    handler: McpRequestHandler,
    handleOptions: HandleOptions = {},
  ): Promise<Response | undefined> {
    const pathname = new URL(request.url).pathname;
    if (metadataPaths.has(pathname)) return metadataAnswer(request.method, pathname);
    if (!isUnderMcpPath(pathname, options.mcpPath)) return undefined;
    const h = request.headers;
    const outcome = await gate({
      method: request.method,
      authorization: h.get("authorization"),
      url: request.url,
      bodyHeaders: {
        contentType: h.get("content-type"),
        contentEncoding: h.get("content-encoding"),
        contentLength: h.get("content-length"),
      },
      readBody: (limit) => readWebBody(request, limit, handleOptions.parsedBody),
    });
    if (outcome.allow === "pass") return undefined;
    if (outcome.allow === false) {
      await drainUnreadBody(request);
      return toResponse(outcome.result);
    }
    const context: McpRequestContext = {
      authInfo: outcome.authInfo,
      session: outcome.session,
      parsedBody: outcome.body,
    };
    const response = await (options.sessionContext
      ? runWithSession(outcome.session, () => handler(request, context))
      : handler(request, context));
    return withHeaders(response, outcome.headers);
  }

  /**
   * Reads to its end the small body of a request the gate refused without needing it (a 401 before
   * any body is read), so the host can keep the client's connection: workerd closes a connection whose
   * request body went unread, and a client already sending its next request (or the rest of this
   * body) on it then gets a reset instead of the 401 that starts its OAuth flow. Only a body whose
   * Content-Length is at most `DRAIN_LIMIT_BYTES`, for at most `DRAIN_WAIT_MS`; anything else is left
   * unread (the connection may then close, which is safe).
   */
  async function drainUnreadBody(request: Request): Promise<void> {
    if (request.bodyUsed || request.body === null || request.body.locked) return;
    const declared = declaredLength(request.headers.get("content-length"));
    if (declared === undefined || declared > DRAIN_LIMIT_BYTES) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      request.arrayBuffer().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, DRAIN_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  async function metadataAnswer(method: string, pathname: string): Promise<Response | undefined> {
    if (pathname === prmPath || pathname === PRM_WELL_KNOWN) {
      return metadataResponse(method, protectedResourceMetadata, 3600);
    }
    if (pathname === AS_WELL_KNOWN) {
      try {
        return await metadataResponse(method, () => discovery.get(), Math.floor(options.metadataMaxAgeMs / 1000));
      } catch (error) {
        const result = errorResultFor(error);
        delete result.headers["www-authenticate"];
        return toResponse(result);
      }
    }
    return undefined;
  }

  const notFound = () =>
    new Response(JSON.stringify({ error: "not_found", error_description: "Nothing is served at this path" }), {
      status: 404,
      headers: { "content-type": "application/json" },
    });

  const auth: DescopeMcpAuth = {
    config: frozenConfig(options, issuer, resourceMetadataURL),
    verifyToken,
    async authenticate(request, opts) {
      return (await authenticateRequest(request, opts)).session;
    },
    gate,
    handle,
    protect:
      (handler, protectOptions = {}) =>
      async (request) =>
        (await handle(request, handler)) ?? (await (protectOptions.fallback ?? notFound)(request)),
    scopesFor: (body) => scopesForRequest(body, policy).scopes,
    requireScopes: (session, scopes) => requireScopes(session, scopes),
    hasScopes: (session, scopes) => hasScopes(session, scopes),
    errorResult: errorResultFor,
    errorResponse: (error) => toResponse(errorResultFor(error)),
    protectedResourceMetadata,
    authorizationServerMetadata: () => discovery.get(),
    isMetadataPath: (pathname) => metadataPaths.has(pathname),
    async handleMetadata(request) {
      if (typeof Request !== "undefined" && request instanceof Request) {
        return metadataAnswer(request.method, new URL(request.url).pathname);
      }
      const { method, path } = request as { method: string; path: string };
      return metadataAnswer(String(method), String(path));
    },
    toAuthInfo: authInfoOf,
    runInSession: (session, fn) => (options.sessionContext ? runWithSession(session, fn) : fn()),
    connections: {
      getToken: (params) => getUserConnectionToken(api, params),
      getTenantToken: (params) => getTenantConnectionToken(api, params),
    },
    management: {
      getUser: (userId) => loadUser(managementApi, "userId", userId),
      getUserByLoginId: (loginId) => loadUser(managementApi, "loginId", loginId),
    },
    stats: () => ({
      jwksFetches: keys.fetches,
      metadataFetches: discovery.loads,
      tokenCache: tokenCache?.snapshot() ?? { hits: 0, misses: 0, evictions: 0, size: 0 },
      connectionCache: connectionTokens.stats(),
    }),
  };
  return auth;
}
