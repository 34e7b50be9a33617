import { getDescopeSession } from "@descope-mcp/xmcp";
import type { ToolMetadata } from "xmcp";
import { json } from "../descope";

export const metadata: ToolMetadata = {
  name: "whoami",
  description: "Who is calling: user, client, scopes, roles, tenants.",
};

export default function whoami() {
  // getSession() is the @xmcp-dev/descope-shaped view (its `permissions` merges RBAC and scopes);
  // the contract reports the RBAC permissions, so this reads the core session.
  const s = getDescopeSession();
  return json({
    userId: s.userId,
    email: s.email ?? null,
    clientId: s.clientId ?? null,
    scopes: s.scopes,
    roles: s.roles,
    permissions: s.permissions,
    tenants: s.tenants,
  });
}
