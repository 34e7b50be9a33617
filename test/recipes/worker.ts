import { waitUntil } from "cloudflare:workers";
import { createDescopeMcpAuthFromEnv } from "@descope-mcp/core";
import { mcp } from "./mcp.ts";

const policy = { toolScopes: { write_note: ["notes:write"] }, waitUntil };
let handler: ((request: Request) => Promise<Response>) | undefined;

export default {
  fetch(request: Request, env: Record<string, string>): Promise<Response> {
    // The Worker's env (vars and secrets: DESCOPE_ISSUER_URL, BASE_URL, …) arrives with a request.
    handler ??= createDescopeMcpAuthFromEnv(env, policy).protect(mcp);
    return handler(request);
  },
};
