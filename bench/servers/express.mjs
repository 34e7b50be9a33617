// The Express example as a benchmark target: `auth` is the real example app; `noauth` is the same
// app with the Descope router left out (same MCP endpoint, same tools). Every bench/servers/<name>.mjs
// follows this shape: argv[2] is the mode, PORT/BASE_URL/DESCOPE_ISSUER_URL come from the
// environment, MCP is served at /mcp, and one line containing "listening" means ready.
import { createDescopeMcpAuthFromEnv } from "@descope-mcp/core";
import { createApp, mountMcp, POLICY } from "@descope-mcp/example-express/app";
import express from "express";

const mode = process.argv[2];
let app;
if (mode === "auth") {
  ({ app } = createApp(process.env));
} else {
  app = express();
  mountMcp(app, createDescopeMcpAuthFromEnv(process.env, POLICY));
}
const server = app.listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`listening (${mode})`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
