import { z } from "zod";
import { byteLimit } from "./body.js";
import { ConfigurationError } from "./errors.js";
import type { FetchLike } from "./http.js";
import { SCOPE_TOKEN } from "./scopes.js";

/** Audit record passed to `onEvent`. It never contains the token. */
export interface AuthEvent {
  type: "allow" | "deny";
  /** `ok` for allow; the error code for deny (`invalid_token`, `token_expired`, `insufficient_scope`, …). */
  reason: string;
  status: number;
  userId?: string;
  clientId?: string;
  /** Tools named by `tools/call` requests in the body. */
  tools?: string[];
  requiredScopes?: string[];
  missingScopes?: string[];
  description?: string;
}

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

export interface DescopeMcpAuthOptions {
  /** The Descope issuer, e.g. `https://api.descope.com/v1/apps/agentic/P…/M…`. */
  issuerURL?: string;
  /** The discovery URL, `<issuer>/.well-known/openid-configuration`. */
  wellKnownURL?: string;
  /** A Descope project ID (`P…`); the issuer becomes `<descopeBaseURL>/v1/apps/<P>`. */
  projectId?: string;
  /** Descope API base URL. Default: the issuer's origin, else the project's region, else `https://api.descope.com`. */
  descopeBaseURL?: string;
  /** This server's public origin (optionally with a path prefix), e.g. `https://mcp.example.com`. */
  baseURL: string;
  /** Where the MCP endpoint is served. Default `/mcp`. */
  mcpPath?: string;
  /** Accepted `aud` values. Default: the resource URL (`baseURL + mcpPath`). */
  audience?: string | string[];
  /** Scopes every MCP request needs. */
  requiredScopes?: string[];
  /** Tool name → scopes a `tools/call` of that tool needs (on top of `requiredScopes`). */
  toolScopes?: Record<string, string[]>;
  /**
   * Scopes named in 401 challenges: what a client should ask for on its first authorization.
   * Default: `requiredScopes`.
   */
  challengeScopes?: string[];
  /** Scopes advertised in the protected resource metadata. Default: required and tool scopes. */
  scopesSupported?: string[];
  /** Human-readable name for the protected resource metadata. */
  resourceName?: string;
  /** Documentation URL for the protected resource metadata. */
  resourceDocumentation?: string;
  /** Descope management key, for the management API and management-key connection calls. */
  managementKey?: string;
  /** Accepted JWS algorithms. Default `["RS256"]`. Symmetric algorithms and `none` are refused. */
  algorithms?: string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Override the JWKS URL (default: the discovery document's `jwks_uri`). */
  jwksURL?: string;
  /** Tokens longer than this are refused before any crypto work. Default 8192. */
  maxTokenLength?: number;
  /** An unknown `kid` refetches the JWKS at most once per this many seconds. Default 30. */
  jwksCooldownSeconds?: number;
  /** Keys are refreshed (in the background) once older than this. Default 600. */
  jwksMaxAgeSeconds?: number;
  /** The authorization-server metadata is cached this long. Default 3600. */
  metadataMaxAgeSeconds?: number;
  /** After a failed upstream fetch with nothing cached, fail fast for this long. Default 2. */
  failureBackoffSeconds?: number;
  /**
   * Verified-token cache: a repeated token skips signature work (expiry is still checked on every
   * use). `false` disables it. Default `{ maxEntries: 10000, maxAgeSeconds: 300 }`.
   */
  tokenCache?: false | { maxEntries?: number; maxAgeSeconds?: number };
  /**
   * Connection-token cache, per caller token, user or tenant, app and scopes, until
   * `refreshSkewSeconds` before the token expires. `false` disables it. Default
   * `{ maxEntries: 1000, refreshSkewSeconds: 60 }`.
   */
  connectionCache?: false | { maxEntries?: number; refreshSkewSeconds?: number };
  /** Upstream time limits in milliseconds. */
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
  /** `fetch` implementation for every upstream call. Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Audit hook: called with every allow/deny decision. Exceptions it throws are ignored. */
  onEvent?: (event: AuthEvent) => void;
  /**
   * Keeps a shared upstream fetch (discovery, JWKS) alive after the request that started it has
   * been answered — a background key refresh, or a fetch a request stopped waiting for at its
   * deadline. Runtimes that end a request's I/O with its response need it: on Cloudflare Workers
   * pass `waitUntil` from `cloudflare:workers`. Called with each such fetch as it starts.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Clock (ms since epoch), for tests. */
  now?: () => number;
}

const ASYMMETRIC_ALGS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

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
    .regex(/^\/[^?#\s]*$/, "must be a path starting with '/', without query, fragment or spaces")
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

/** Options after validation, with every default applied. */
export interface ResolvedOptions {
  issuerURL?: string | undefined;
  wellKnownURL?: string | undefined;
  projectId?: string | undefined;
  descopeBaseURL?: string | undefined;
  baseURL: string;
  mcpPath: string;
  resourceURL: string;
  audience: string[];
  requiredScopes: string[];
  toolScopes: Record<string, string[]>;
  scopesSupported: string[];
  challengeScopes: string[];
  resourceName?: string | undefined;
  resourceDocumentation?: string | undefined;
  managementKey?: string | undefined;
  algorithms: string[];
  clockToleranceSeconds: number;
  jwksURL?: string | undefined;
  maxTokenLength: number;
  jwksCooldownMs: number;
  jwksMaxAgeMs: number;
  metadataMaxAgeMs: number;
  failureBackoffMs: number;
  tokenCache: { maxEntries: number; maxAgeMs: number } | false;
  connectionCache: { maxEntries: number; refreshSkewMs: number } | false;
  timeouts: Required<Timeouts>;
  /** In bytes. */
  bodyLimit: number;
  cors: boolean;
  fetch: FetchLike;
  onEvent?: ((event: AuthEvent) => void) | undefined;
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
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
  const mcpPath = o.mcpPath === undefined || o.mcpPath === "/" ? (o.mcpPath ?? "/mcp") : o.mcpPath.replace(/\/+$/, "");
  const resourceURL = `${baseURL}${mcpPath === "/" ? "" : mcpPath}`;
  const requiredScopes = [...new Set(o.requiredScopes ?? [])];
  const toolScopes: Record<string, string[]> = {};
  for (const [tool, list] of Object.entries(o.toolScopes ?? {})) toolScopes[tool] = [...new Set(list)];
  const challengeScopes = [...new Set(o.challengeScopes ?? requiredScopes)];
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

/** Environment variable → option. */
export const ENV_VARS = {
  DESCOPE_ISSUER_URL: "issuerURL",
  DESCOPE_WELL_KNOWN_URL: "wellKnownURL",
  DESCOPE_PROJECT_ID: "projectId",
  DESCOPE_BASE_URL: "descopeBaseURL",
  BASE_URL: "baseURL",
  MCP_PATH: "mcpPath",
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
