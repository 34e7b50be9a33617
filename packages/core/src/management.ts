import { type DescopeApiContext, describeDescopeError } from "./connections.js";
import { ConfigurationError, InvalidRequestError, UpstreamError, UserNotFoundError } from "./errors.js";
import { upstreamJson } from "./http.js";

/** A Descope user as the management API returns it (common fields typed; the rest kept). */
export interface DescopeUser {
  /** The user ID (a token's `sub`). */
  userId: string;
  /** The user's login IDs (email, phone, username, …); always an array. */
  loginIds: string[];
  /** The user's email. */
  email?: string;
  /** The user's display name. */
  name?: string;
  /** The user's phone number. */
  phone?: string;
  /** Whether the email is verified. */
  verifiedEmail?: boolean;
  /** The account status, as Descope reports it (e.g. `enabled`, `disabled`, `invited`). */
  status?: string;
  /** Project-level role names. */
  roleNames?: string[];
  /** The user's tenants, as Descope returns them (untyped). */
  tenants?: unknown[];
  /** The project's custom attributes for this user. */
  customAttributes?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Loads a user by user ID or login ID with the management key. */
export async function loadUser(ctx: DescopeApiContext, by: "userId" | "loginId", id: string): Promise<DescopeUser> {
  if (!ctx.managementKey) {
    throw new ConfigurationError(
      "management.getUser needs the managementKey option (DESCOPE_MANAGEMENT_KEY); none is configured",
      "managementKey",
    );
  }
  if (typeof id !== "string" || id.length === 0) throw new InvalidRequestError(`${by} is required`);
  const { status, json } = await upstreamJson(ctx.fetch, {
    url: `${ctx.apiBaseURL}/v1/mgmt/user?${by}=${encodeURIComponent(id)}`,
    headers: { authorization: `Bearer ${ctx.projectId}:${ctx.managementKey}` },
    timeoutMs: ctx.timeoutMs,
    what: "management API",
  });
  const detail = describeDescopeError(json, [ctx.managementKey]);
  if (status === 404) throw new UserNotFoundError(`No Descope user with that ${by}${detail}`);
  if (status !== 200) throw new UpstreamError(`Descope management API answered HTTP ${status}${detail}`, status);
  const user = (json as { user?: unknown } | undefined)?.user;
  if (!user || typeof user !== "object" || typeof (user as { userId?: unknown }).userId !== "string") {
    throw new UpstreamError("Descope management API answered without a user", status);
  }
  const u = user as DescopeUser;
  return { ...u, loginIds: Array.isArray(u.loginIds) ? u.loginIds : [] };
}
