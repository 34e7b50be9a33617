import { waitUntil } from "cloudflare:workers";
import { createDescopeMcpAuthFromEnv, type DescopeMcpEnv, descopeMcpAuth, mcpHandler } from "@descope-mcp/hono";
import { createMcpHandler } from "@modelcontextprotocol/server";
import { type ExecutionContext, Hono } from "hono";
import { buildServer } from "./notes.js";

const policy = { toolScopes: { write_note: ["notes:write"] }, waitUntil };
let app: Hono<DescopeMcpEnv> | undefined;

export default {
  fetch(request: Request, env: Record<string, string>, ctx: ExecutionContext) {
    // The Worker's env (vars and secrets: DESCOPE_ISSUER_URL, BASE_URL, …) arrives with a request.
    app ??= new Hono<DescopeMcpEnv>()
      .use(descopeMcpAuth(createDescopeMcpAuthFromEnv(env, policy)))
      .all("/mcp", mcpHandler(createMcpHandler(buildServer)));
    return app.fetch(request, env, ctx);
  },
};
