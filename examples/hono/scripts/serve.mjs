// The example on Bun's or Deno's own HTTP server, with the same environment variables as `start`:
//   bun scripts/serve.mjs
//   deno run --allow-net --allow-env --allow-read scripts/serve.mjs
// (the same app module as the Node and Worker entries; build first: `pnpm build`).
import { DescopeMcpError } from "@descope-mcp/core";
import { createApp, portFrom } from "../dist/app.js";

const runtime = globalThis.Bun ? "bun" : globalThis.Deno ? "deno" : undefined;
if (!runtime) throw new Error("scripts/serve.mjs runs under Bun or Deno; on Node use dist/server.js");
const env = runtime === "bun" ? Bun.env : Deno.env.toObject();

let port;
let created;
try {
  port = portFrom(env);
  created = createApp(env);
} catch (error) {
  if (!(error instanceof DescopeMcpError)) throw error;
  console.error(`error: ${error.message}`);
  runtime === "bun" ? process.exit(1) : Deno.exit(1);
}
const { app, auth } = created;
const ready = (actual) =>
  console.log(
    `descope-mcp hono example (${runtime}) listening on http://127.0.0.1:${actual}${auth.config.mcpPath} (resource ${auth.config.resourceURL})`,
  );

if (runtime === "bun") ready(Bun.serve({ hostname: "127.0.0.1", port, fetch: app.fetch }).port);
else Deno.serve({ hostname: "127.0.0.1", port, onListen: (address) => ready(address.port) }, app.fetch);
