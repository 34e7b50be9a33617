import { createDescopeMcpAuthFromEnv } from "@descope-mcp/core";
import { mcp } from "./mcp.ts";

const { PORT = "3000", ...env } = Deno.env.toObject();
const auth = createDescopeMcpAuthFromEnv(env, { toolScopes: { write_note: ["notes:write"] } });
Deno.serve({ hostname: "127.0.0.1", port: Number(PORT) }, auth.protect(mcp));
