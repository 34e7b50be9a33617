// The Hono example (on @hono/node-server) as a benchmark target: `auth` is the real example app;
// `noauth` is the same app with the Descope middleware left out (the same MCP transport and tools,
// called without a caller). Same shape as express.mjs: argv[2] is the mode, PORT/BASE_URL/
// DESCOPE_ISSUER_URL come from the environment, MCP is served at /mcp, "listening" means ready.
import { createDescopeMcpAuthFromEnv } from "@descope-mcp/core";
import { createApp, mcpTransport, POLICY } from "@descope-mcp/example-hono/app";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const mode = process.argv[2];
let app;
if (mode === "auth") {
  ({ app } = createApp(process.env));
} else {
  const transport = mcpTransport(createDescopeMcpAuthFromEnv(process.env, POLICY));
  app = new Hono();
  app.post("/mcp", async (c) => transport(c.req.raw, { parsedBody: await c.req.json() }));
}
const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT) }, () =>
  console.log(`listening (${mode})`),
);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
