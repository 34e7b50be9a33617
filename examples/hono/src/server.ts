// The Hono example on Node, through @hono/node-server.
import { DescopeMcpError } from "@descope-mcp/core";
import { serve } from "@hono/node-server";
import { createApp, portFrom } from "./app.js";

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

let port: number;
let created: ReturnType<typeof createApp>;
try {
  port = portFrom(process.env);
  created = createApp(process.env);
} catch (error) {
  if (error instanceof DescopeMcpError) fail(error.message);
  throw error;
}
const { app, auth } = created;

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port }, (info) => {
  console.log(
    `descope-mcp hono example listening on http://127.0.0.1:${info.port}${auth.config.mcpPath} (resource ${auth.config.resourceURL})`,
  );
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
