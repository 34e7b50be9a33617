import { scopesFromClaims } from "./scopes.js";

/** Per-tenant roles and permissions from the `tenants` claim. */
export interface TenantAccess {
  /** The user's roles in the tenant. */
  readonly roles: readonly string[];
  /** The user's permissions in the tenant. */
  readonly permissions: readonly string[];
}

/**
 * What a verified Descope access token says about its caller. Sessions are deeply frozen: the same
 * object may serve every request that carries the same token (see the `tokenCache` option).
 */
export interface DescopeSession {
  /** The user ID (`sub`). */
  userId: string;
  /** The user's email (`email`), when the token carries one. */
  email?: string;
  /** The raw access token. Treat it as a secret: never log it or return it from a tool. */
  token: string;
  /** The user's login IDs (`loginIds`); empty when the token has none. */
  readonly loginIds: readonly string[];
  /** OAuth scopes, from `scope`, `scp` and `scopes`. */
  readonly scopes: readonly string[];
  /** Project-level permissions. */
  readonly permissions: readonly string[];
  /** Project-level roles. */
  readonly roles: readonly string[];
  /**
   * Roles and permissions per tenant ID (`tenants`). A dictionary without a prototype: looking up a
   * tenant ID from a request finds only the token's tenants.
   */
  readonly tenants: Readonly<Record<string, TenantAccess>>;
  /** The current tenant (`dct`). */
  currentTenant?: string;
  /** The OAuth client the token was issued to (`azp`, else `client_id`). */
  clientId?: string;
  /** The token's audiences, always as an array. */
  readonly audience: readonly string[];
  /** The token's issuer (`iss`). */
  issuer: string;
  /** The Descope project ID this server is configured for. */
  projectId: string;
  /** The protected resource this session was authenticated for (this server's MCP URL). */
  resource?: string;
  /** When the token expires (`exp`). */
  expiresAt: Date;
  /** When the token was issued (`iat`), when it says. */
  issuedAt?: Date;
  /** Every claim of the token, frozen. */
  claims: Readonly<Record<string, unknown>>;
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * The strings of a claim array, frozen. An array of strings only is used as is (frozen in place: it
 * stays part of the claims); anything else is filtered into a frozen copy.
 */
function strings(value: unknown): readonly string[] {
  if (!Array.isArray(value)) return NONE;
  for (const v of value) {
    if (typeof v !== "string") return Object.freeze(value.filter((x): x is string => typeof x === "string"));
  }
  return Object.freeze(value);
}

/**
 * The `tenants` claim as a dictionary without a prototype: tenant IDs are data from the token, so a
 * lookup such as `session.tenants[tenantIdFromARequest]` must find only the token's tenants — never
 * `constructor` or `toString` from `Object.prototype` — and a `__proto__` key stays an ordinary entry.
 */
function tenantsOf(value: unknown): Readonly<Record<string, TenantAccess>> {
  const out = Object.create(null) as Record<string, TenantAccess>;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [id, entry] of Object.entries(value as Record<string, unknown>)) {
      const e = entry !== null && typeof entry === "object" ? (entry as Record<string, unknown>) : {};
      // A plain assignment is safe on a prototype-free object: `__proto__` is an ordinary key here.
      out[id] = Object.freeze({ roles: strings(e.roles), permissions: strings(e.permissions) });
    }
  }
  return Object.freeze(out);
}

/** Freezes a JSON value and everything in it (JSON has no cycles; frozen parts are skipped). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) {
      const inner = (value as Record<string, unknown>)[key];
      if (inner !== null && typeof inner === "object") deepFreeze(inner);
    }
  }
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/**
 * Maps verified claims to a session. Claims of the wrong type are dropped rather than trusted
 * (a missing `azp` is simply absent, never an error).
 */
export function sessionFromClaims(
  token: string,
  claims: Record<string, unknown>,
  context: { projectId: string; resource?: string | undefined },
): DescopeSession {
  return sessionOwning(token, { ...claims }, context);
}

/**
 * `sessionFromClaims` for claims the caller hands over (freshly parsed from a verified token):
 * they are frozen in place instead of copied.
 */
export function sessionOwning(
  token: string,
  claims: Record<string, unknown>,
  context: { projectId: string; resource?: string | undefined },
): DescopeSession {
  const aud = claims.aud;
  const session: DescopeSession = {
    userId: claims.sub as string,
    token,
    loginIds: strings(claims.loginIds),
    scopes: Object.freeze(scopesFromClaims(claims)),
    permissions: strings(claims.permissions),
    roles: strings(claims.roles),
    tenants: tenantsOf(claims.tenants),
    audience: typeof aud === "string" ? Object.freeze([aud]) : strings(aud),
    issuer: claims.iss as string,
    projectId: context.projectId,
    expiresAt: new Date((claims.exp as number) * 1000),
    // Frozen (deeply) when first read: nothing else holds the parsed claims, and most requests never
    // read them, so the cold path does not pay for freezing every nested value.
    get claims() {
      return deepFreeze(claims);
    },
  };
  const email = optionalString(claims.email);
  if (email) session.email = email;
  const tenant = optionalString(claims.dct);
  if (tenant) session.currentTenant = tenant;
  const clientId = optionalString(claims.azp) ?? optionalString(claims.client_id);
  if (clientId) session.clientId = clientId;
  if (typeof claims.iat === "number") session.issuedAt = new Date(claims.iat * 1000);
  if (context.resource) session.resource = context.resource;
  return Object.freeze(session);
}

/** The MCP TypeScript SDK's `AuthInfo` (identical in v1 and v2). */
export interface McpAuthInfo {
  /** The raw access token. A secret: never log it. */
  token: string;
  /** The OAuth client the token was issued to (`azp`, else `client_id`); `""` when the token names none. */
  clientId: string;
  /** The token's scopes. */
  scopes: string[];
  /** Seconds since the epoch. */
  expiresAt?: number;
  /** The protected resource the token was accepted for (this server's MCP URL). */
  resource?: URL;
  /** The RFC 9728 metadata URL of this server (read by SDK v2 scope challenges). */
  resourceMetadataUrl?: string;
  /** `session`: the full {@link DescopeSession}; `userId`: the caller's user ID. */
  extra?: Record<string, unknown>;
}

/**
 * The session in the shape MCP SDK servers expect in `req.auth` / `authInfo`. `extra.session`
 * holds the full `DescopeSession`.
 */
export function toAuthInfo(session: DescopeSession): McpAuthInfo {
  const info: McpAuthInfo = {
    token: session.token,
    clientId: session.clientId ?? "",
    scopes: [...session.scopes],
    expiresAt: Math.floor(session.expiresAt.getTime() / 1000),
    extra: { session, userId: session.userId },
  };
  if (session.resource) info.resource = new URL(session.resource);
  return info;
}
