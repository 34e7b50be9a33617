import { createDescopeMcpAuthFromEnv } from "@descope-mcp/core";
import { mcp } from "@/lib/mcp";

// One handler for every route file below: metadata, preflight, the gate and the MCP endpoint.
const auth = createDescopeMcpAuthFromEnv(process.env, { toolScopes: { write_note: ["notes:write"] } });
export const handler = auth.protect(mcp);
