import { createDescopeMcpAuthFromEnv } from "@descope-mcp/core";
import { descopeProvider } from "@descope-mcp/xmcp";
import { auditHook, POLICY } from "./descope";

// The engine reads DESCOPE_ISSUER_URL, BASE_URL, MCP_PATH, DESCOPE_MANAGEMENT_KEY, … (errors name
// the variable). Plain options work too: descopeProvider({ issuerURL, baseURL, ... }).
export default descopeProvider(createDescopeMcpAuthFromEnv(undefined, { ...POLICY, ...auditHook() }));
