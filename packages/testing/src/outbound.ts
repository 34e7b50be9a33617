import { createLocalJWKSet, type JWTPayload, jwtVerify } from "jose";
import {
  descopeError,
  type EmulatorRequest,
  type EmulatorResponse,
  isObject,
  json,
  parseProjectBearer,
} from "./http.js";
import { type EmulatorState, OUTBOUND_SCOPE } from "./state.js";

export type OutboundKind = "user" | "userLatest" | "tenant" | "tenantLatest";

export const outboundPaths: Record<OutboundKind, string> = {
  user: "/v1/mgmt/outbound/app/user/token",
  userLatest: "/v1/mgmt/outbound/app/user/token/latest",
  tenant: "/v1/mgmt/outbound/app/tenant/token",
  tenantLatest: "/v1/mgmt/outbound/app/tenant/token/latest",
};

type Principal = { kind: "management" } | { kind: "user"; claims: JWTPayload };

/** Every issuer of this project on the emulator's origin (agentic, project-level, tenant, bare forms). */
export function isProjectIssuer(state: EmulatorState, iss: unknown): boolean {
  if (typeof iss !== "string") return false;
  const base = state.urls.baseURL;
  const p = state.projectId;
  return (
    iss === p ||
    iss === `${base}/${p}` ||
    iss === `${base}/v1/apps/${p}` ||
    iss.startsWith(`${base}/v1/apps/${p}/`) ||
    iss.startsWith(`${base}/v1/apps/agentic/${p}/`)
  );
}

/** Scopes from `scope` (space-separated), `scp` (string or array) and `scopes` (array). */
export function tokenScopes(claims: JWTPayload): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === "string") for (const s of v.split(" ")) if (s) out.add(s);
    if (Array.isArray(v)) for (const s of v) if (typeof s === "string" && s) out.add(s);
  };
  add(claims.scope);
  add(claims.scp);
  add(claims.scopes);
  return [...out];
}

/** Authorizes `Bearer <projectId>:<managementKey | access token>`. */
export async function authorizeProjectCall(
  state: EmulatorState,
  req: EmulatorRequest,
): Promise<{ principal: Principal } | { error: EmulatorResponse }> {
  const auth = parseProjectBearer(req.headers.authorization);
  if (!auth) return { error: descopeError(401, "Unauthorized", "Missing or malformed Authorization header") };
  if (auth.projectId !== state.projectId) return { error: descopeError(401, "Unauthorized", "Project ID mismatch") };
  if (auth.secret === state.managementKey) return { principal: { kind: "management" } };
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(auth.secret, createLocalJWKSet(state.keys.jwks()), {
      algorithms: ["RS256"],
      clockTolerance: 5,
      requiredClaims: ["exp", "sub"],
    }));
  } catch {
    return { error: descopeError(401, "Unauthorized", "Invalid access token") };
  }
  if (!isProjectIssuer(state, claims.iss)) {
    return { error: descopeError(401, "Unauthorized", "Access token was issued for another project") };
  }
  if (!tokenScopes(claims).includes(OUTBOUND_SCOPE)) {
    return { error: descopeError(403, "Forbidden", `Access token lacks the ${OUTBOUND_SCOPE} scope`) };
  }
  return { principal: { kind: "user", claims } };
}

const nonEmpty = (v: unknown): v is string => typeof v === "string" && v.length > 0;

export async function outbound(
  state: EmulatorState,
  req: EmulatorRequest,
  kind: OutboundKind,
): Promise<EmulatorResponse> {
  const authz = await authorizeProjectCall(state, req);
  if ("error" in authz) return authz.error;
  const body = req.body;
  if (!isObject(body)) return descopeError(400, "Bad request", "The request body must be a JSON object");
  const forUser = kind === "user" || kind === "userLatest";
  const byScopes = kind === "user" || kind === "tenant";
  if (!nonEmpty(body.appId)) return descopeError(400, "Bad request", "appId is required");
  if (forUser && !nonEmpty(body.userId)) return descopeError(400, "Bad request", "userId is required");
  if (!forUser && !nonEmpty(body.tenantId)) return descopeError(400, "Bad request", "tenantId is required");
  if (body.tenantId !== undefined && !nonEmpty(body.tenantId))
    return descopeError(400, "Bad request", "tenantId must be a string");
  const scopes = body.scopes ?? [];
  if (byScopes && !(Array.isArray(scopes) && scopes.every((s) => typeof s === "string"))) {
    return descopeError(400, "Bad request", "scopes must be an array of strings");
  }
  const options = isObject(body.options) ? body.options : {};
  const appId = body.appId;
  const tenantId = nonEmpty(body.tenantId) ? body.tenantId : undefined;

  const { principal } = authz;
  if (principal.kind === "user") {
    if (forUser && body.userId !== principal.claims.sub) {
      return descopeError(403, "Forbidden", "userId does not match the access token's subject");
    }
    if (!forUser) {
      const tenants = isObject(principal.claims.tenants) ? principal.claims.tenants : {};
      if (!(tenantId !== undefined && (tenantId in tenants || principal.claims.dct === tenantId))) {
        return descopeError(403, "Forbidden", "The access token's user is not a member of this tenant");
      }
    }
  }

  const conn = state.connections.get(appId) ?? { status: "not_connected" as const };
  if (conn.status === "denied") return descopeError(403, "Access denied by policy");
  const requested = byScopes ? (scopes as string[]) : [];
  if (
    conn.status === "not_connected" ||
    (conn.scopes !== undefined && !requested.every((s) => conn.scopes?.includes(s)))
  ) {
    return descopeError(404, "Outbound app token not found");
  }
  const owner = forUser ? (body.userId as string) : `tenant:${tenantId}`;
  return json(200, {
    token: {
      id: `emu_otok_${appId}_${owner}`,
      appId,
      ...(forUser ? { userId: body.userId } : {}),
      ...(tenantId !== undefined ? { tenantId } : {}),
      accessToken: conn.accessToken ?? `emu-${appId}-access-token`,
      accessTokenExpiry: Math.floor(Date.now() / 1000) + (conn.expiresInSeconds ?? 3600),
      ...(options.withRefreshToken === true ? { refreshToken: `emu-${appId}-refresh-token` } : {}),
      hasRefreshToken: true,
      scopes: conn.scopes ? [...conn.scopes] : [...requested],
      grantedBy: "user",
    },
  });
}
