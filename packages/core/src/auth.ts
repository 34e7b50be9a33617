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
import { ConfigurationError, DescopeMcpError, InsufficientScopeError, UpstreamUnavailableError } from "./errors.js";
import { upstreamJson } from "./http.js";
import { createIssuerMatcher, type DescopeIssuer, resolveIssuer } from "./issuer.js";
import { KeyStore } from "./keys.js";
import { type DescopeUser, loadUser } from "./management.js";
import {
  AS_WELL_KNOWN,
  metadataResponse,
  PRM_WELL_KNOWN,
  type ProtectedResourceMetadata,
  prmPathFor,
} from "./metadata.js";
import { type AuthenticateInput, extractBearerToken } from "./request.js";
import { hasScopes, requireScopes, scopesForRequest } from "./scopes.js";
import { type DescopeSession, type McpAuthInfo, sessionOwning, toAuthInfo } from "./session.js";
import { TokenCache, type TokenCacheStats } from "./token-cache.js";
import { verifyAccessToken } from "./verify.js";

export interface AuthenticateOptions {
  /** The parsed JSON-RPC body (or its text), so per-tool scopes can be applied to `tools/call`. */
  body?: unknown;
  /**
   * Reads the body lazily: called only after the token passed and only when `toolScopes` are
   * configured, so unauthenticated requests never cost a body parse. Ignored when `body` is given.
   */
  readBody?: () => Promise<unknown>;
}

/** The configured engine. Create one per server with `createDescopeMcpAuth`. */
export interface DescopeMcpAuth {
  /** The resolved configuration: issuer, project, URLs, scopes. */
  readonly config: Readonly<ResolvedOptions> & {
    readonly issuer: Readonly<DescopeIssuer>;
    /** Absolute URL of the path-aware protected resource metadata. */
    readonly resourceMetadataURL: string;
  };
  /** Verifies an access token and maps it to a session. Throws `DescopeMcpError`s. */
  verifyToken(token: string): Promise<DescopeSession>;
  /**
   * Authenticates a request: one Bearer header, no token in the query string, a valid token,
   * `requiredScopes`, and the `toolScopes` of every `tools/call` in `options.body`.
   */
  authenticate(request: Request | AuthenticateInput, options?: AuthenticateOptions): Promise<DescopeSession>;
  /** The scopes an MCP request with this body needs (server-wide plus per-tool). */
  scopesFor(body?: unknown): string[];
  /** Throws `InsufficientScopeError` unless the session covers the scopes (with `a:*` hierarchy). */
  requireScopes(session: DescopeSession, scopes: readonly string[] | string): void;
  hasScopes(session: DescopeSession, scopes: readonly string[] | string): boolean;
  /** The HTTP answer for an error: status, `WWW-Authenticate`, JSON body. Unknown errors → 500. */
  errorResult(error: unknown): AuthErrorResult;
  /** `errorResult` as a Web `Response`. */
  errorResponse(error: unknown): Response;
  /** RFC 9728 metadata for this server. */
  protectedResourceMetadata(): ProtectedResourceMetadata;
  /** Descope's authorization-server metadata (fetched once, cached, time-boxed). */
  authorizationServerMetadata(): Promise<Record<string, unknown>>;
  /** Answers the well-known routes (path-aware and root PRM, AS metadata); `undefined` for any other path. */
  handleMetadata(request: Request): Promise<Response | undefined>;
  /** Whether `pathname` is one of the metadata routes `handleMetadata` answers. */
  isMetadataPath(pathname: string): boolean;
  /** The session as the MCP SDK's `AuthInfo`. */
  toAuthInfo(session: DescopeSession): McpAuthInfo;
  readonly connections: {
    /** A user's third-party token (the caller's token authenticates by default). */
    getToken(params: GetUserConnectionTokenParams): Promise<ConnectionToken>;
    /** A tenant's third-party token. */
    getTenantToken(params: GetTenantConnectionTokenParams): Promise<ConnectionToken>;
  };
  readonly management: {
    getUser(userId: string): Promise<DescopeUser>;
    getUserByLoginId(loginId: string): Promise<DescopeUser>;
  };
  /** Counters for observability, tests and benchmarks. */
  stats(): {
    jwksFetches: number;
    metadataFetches: number;
    tokenCache: TokenCacheStats;
    connectionCache: { hits: number; misses: number; size: number };
  };
}

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

function build(options: ResolvedOptions): DescopeMcpAuth {
  const issuer = resolveIssuer(options);
  const isAcceptedIssuer = createIssuerMatcher(issuer);
  const resourceMetadataURL = `${new URL(options.baseURL).origin}${prmPathFor(options.resourceURL)}`;
  const prmPath = prmPathFor(options.resourceURL);
  const policy = { requiredScopes: options.requiredScopes, toolScopes: options.toolScopes };
  const hasToolScopes = Object.keys(options.toolScopes).length > 0;

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
    { maxAgeMs: options.metadataMaxAgeMs, failureBackoffMs: options.failureBackoffMs, now: options.now },
  );

  const keys = new KeyStore({
    fetch: options.fetch,
    jwksURL: async () => {
      if (options.jwksURL) return options.jwksURL;
      try {
        const doc = await discovery.get();
        if (typeof doc.jwks_uri === "string" && /^https?:\/\//.test(doc.jwks_uri)) return doc.jwks_uri;
      } catch {
        // Discovery unavailable: fall back to Descope's well-known JWKS location.
      }
      return issuer.fallbackJwksURL;
    },
    timeoutMs: options.timeouts.jwks,
    cooldownMs: options.jwksCooldownMs,
    maxAgeMs: options.jwksMaxAgeMs,
    failureBackoffMs: options.failureBackoffMs,
    now: options.now,
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

  async function verifyFresh(token: string): Promise<DescopeSession> {
    const claims = await verifyAccessToken(token, keys, verifyPolicy);
    const session = sessionOwning(token, claims, { projectId: issuer.projectId, resource: options.resourceURL });
    tokenCache?.set(token, session, claims);
    return session;
  }

  /** A first verification that concurrent callers with the same token join (one signature check). */
  async function verifyShared(token: string): Promise<DescopeSession> {
    try {
      return await verifyFresh(token);
    } finally {
      verifying.delete(token);
    }
  }

  function verifyToken(token: string): Promise<DescopeSession> {
    if (tokenCache !== undefined && typeof token === "string") {
      try {
        const hit = tokenCache.get(token);
        if (hit !== undefined) return Promise.resolve(hit);
      } catch (error) {
        return Promise.reject(error);
      }
      let pending = verifying.get(token);
      if (pending === undefined) {
        pending = verifyShared(token);
        verifying.set(token, pending);
      }
      return pending;
    }
    return verifyFresh(token);
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
    errorResult(error, { resourceMetadata: resourceMetadataURL, scope: options.challengeScopes });

  const metadataPaths = new Set([prmPath, PRM_WELL_KNOWN, AS_WELL_KNOWN]);

  const auth: DescopeMcpAuth = {
    config: Object.freeze({ ...options, issuer: Object.freeze({ ...issuer }), resourceMetadataURL }),
    verifyToken,
    async authenticate(request, opts) {
      const input: AuthenticateInput =
        typeof Request !== "undefined" && request instanceof Request
          ? { authorization: request.headers.get("authorization"), url: request.url }
          : (request as AuthenticateInput);
      let { scopes: required, tools } = scopesForRequest(opts?.body, policy);
      let session: DescopeSession | undefined;
      try {
        const token = extractBearerToken(input);
        session = await verifyToken(token);
        if (opts?.body === undefined && opts?.readBody && hasToolScopes) {
          ({ scopes: required, tools } = scopesForRequest(await opts.readBody(), policy));
        }
        if (required.length > 0) requireScopes(session, required);
      } catch (error) {
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
        if (mapped) event.description = mapped.message;
        emit(event);
        throw error;
      }
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
      return session;
    },
    scopesFor: (body) => scopesForRequest(body, policy).scopes,
    requireScopes: (session, scopes) => requireScopes(session, scopes),
    hasScopes: (session, scopes) => hasScopes(session, scopes),
    errorResult: errorResultFor,
    errorResponse: (error) => toResponse(errorResultFor(error)),
    protectedResourceMetadata,
    authorizationServerMetadata: () => discovery.get(),
    isMetadataPath: (pathname) => metadataPaths.has(pathname),
    async handleMetadata(request) {
      const pathname = new URL(request.url).pathname;
      if (pathname === prmPath || pathname === PRM_WELL_KNOWN) {
        return metadataResponse(request.method, protectedResourceMetadata, 3600);
      }
      if (pathname === AS_WELL_KNOWN) {
        try {
          return await metadataResponse(
            request.method,
            () => discovery.get(),
            Math.floor(options.metadataMaxAgeMs / 1000),
          );
        } catch (error) {
          const result = errorResultFor(error);
          delete result.headers["www-authenticate"];
          return toResponse(result);
        }
      }
      return undefined;
    },
    toAuthInfo: (session) => ({ ...toAuthInfo(session), resourceMetadataUrl: resourceMetadataURL }),
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
