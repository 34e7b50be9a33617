import { scopesFromClaims } from "./scopes.js";

/** Per-tenant roles and permissions from the `tenants` claim. */
export interface TenantAccess {
  roles: string[];
  permissions: string[];
}

/** What a verified Descope access token says about its caller. */
export interface DescopeSession {
  /** The user ID (`sub`). */
  userId: string;
  email?: string;
  /** The raw access token. Treat it as a secret: never log it or return it from a tool. */
  token: string;
  loginIds: string[];
  /** OAuth scopes, from `scope`, `scp` and `scopes`. */
  scopes: string[];
  /** Project-level permissions. */
  permissions: string[];
  /** Project-level roles. */
  roles: string[];
  tenants: Record<string, TenantAccess>;
  /** The current tenant (`dct`). */
  currentTenant?: string;
  /** The OAuth client the token was issued to (`azp`, else `client_id`). */
  clientId?: string;
  /** The token's audiences, always as an array. */
  audience: string[];
  issuer: string;
  projectId: string;
  /** The protected resource this session was authenticated for (this server's MCP URL). */
  resource?: string;
  expiresAt: Date;
  issuedAt?: Date;
  /** Every claim of the token, frozen. */
  claims: Readonly<Record<string, unknown>>;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function tenantsOf(value: unknown): Record<string, TenantAccess> {
  const out: Record<string, TenantAccess> = {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [id, entry] of Object.entries(value as Record<string, unknown>)) {
    const e = entry !== null && typeof entry === "object" ? (entry as Record<string, unknown>) : {};
    out[id] = { roles: strings(e.roles), permissions: strings(e.permissions) };
  }
  return out;
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
  const aud = claims.aud;
  const session: DescopeSession = {
    userId: claims.sub as string,
    token,
    loginIds: strings(claims.loginIds),
    scopes: scopesFromClaims(claims),
    permissions: strings(claims.permissions),
    roles: strings(claims.roles),
    tenants: tenantsOf(claims.tenants),
    audience: typeof aud === "string" ? [aud] : strings(aud),
    issuer: claims.iss as string,
    projectId: context.projectId,
    expiresAt: new Date((claims.exp as number) * 1000),
    claims: Object.freeze({ ...claims }),
  };
  const email = optionalString(claims.email);
  if (email) session.email = email;
  const tenant = optionalString(claims.dct);
  if (tenant) session.currentTenant = tenant;
  const clientId = optionalString(claims.azp) ?? optionalString(claims.client_id);
  if (clientId) session.clientId = clientId;
  if (typeof claims.iat === "number") session.issuedAt = new Date(claims.iat * 1000);
  if (context.resource) session.resource = context.resource;
  return session;
}

/** The MCP TypeScript SDK's `AuthInfo` (identical in v1 and v2). */
export interface McpAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  /** Seconds since the epoch. */
  expiresAt?: number;
  resource?: URL;
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
