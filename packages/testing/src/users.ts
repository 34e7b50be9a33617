import { descopeError, type EmulatorRequest, type EmulatorResponse, json, parseProjectBearer } from "./http.js";
import type { EmulatorState } from "./state.js";
import type { EmulatorUser } from "./types.js";

export const USERS_PATH = "/v1/mgmt/user";

/** The user object Descope's management API answers. */
export function toDescopeUser(u: EmulatorUser): Record<string, unknown> {
  return {
    userId: u.userId,
    loginIds: [...u.loginIds],
    email: u.email,
    name: u.name,
    verifiedEmail: true,
    status: "enabled",
    roleNames: [...u.roles],
    tenants: Object.entries(u.tenants).map(([tenantId, t]) => ({
      tenantId,
      tenantName: tenantId,
      roleNames: [...(t.roles ?? [])],
    })),
    customAttributes: {},
  };
}

export function loadUser(state: EmulatorState, req: EmulatorRequest): EmulatorResponse {
  const auth = parseProjectBearer(req.headers.authorization);
  if (!auth || auth.projectId !== state.projectId || auth.secret !== state.managementKey) {
    return descopeError(401, "Unauthorized", "A management key is required");
  }
  const userId = req.query.get("userId");
  const loginId = req.query.get("loginId");
  if (!userId && !loginId) return descopeError(400, "Bad request", "userId or loginId is required");
  const all = [state.user, ...state.users];
  const found = userId ? all.find((u) => u.userId === userId) : all.find((u) => u.loginIds.includes(loginId as string));
  if (!found) return descopeError(404, "User not found");
  return json(200, { user: toDescopeUser(found) });
}
