import { createDescopeMcpAuthFromEnv } from "@descope-mcp/core";
import { mcp } from "./mcp.ts";

const { PORT = "3000", ...env } = Bun.env;
const auth = createDescopeMcpAuthFromEnv(env, { toolScopes: { write_note: ["notes:write"] } });
const server = Bun.serve({ hostname: "127.0.0.1", port: Number(PORT), fetch: auth.protect(mcp) });
console.log(`MCP server on http://127.0.0.1:${server.port}${auth.config.mcpPath}`);
