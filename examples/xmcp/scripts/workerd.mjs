#!/usr/bin/env node
// Serves the Cloudflare build (dist/worker.js: xmcp's worker wrapped by descopeWorker) in workerd,
// through Miniflare, on 127.0.0.1:$PORT, offline. The example's environment becomes the Worker's
// bindings (and so its `process.env`, with nodejs_compat).
import { Miniflare } from "miniflare";
import { checkEnvironment, fail } from "./env.mjs";

const { port, config } = checkEnvironment();

const NAMES = [
  "DESCOPE_ISSUER_URL",
  "DESCOPE_WELL_KNOWN_URL",
  "DESCOPE_PROJECT_ID",
  "DESCOPE_BASE_URL",
  "BASE_URL",
  "MCP_PATH",
  "DESCOPE_MANAGEMENT_KEY",
  "AUDIT_LOG",
];
const bindings = { XMCP_TELEMETRY_DISABLED: "true" };
for (const name of NAMES) if (process.env[name]) bindings[name] = process.env[name];

const mf = new Miniflare({
  scriptPath: new URL("../dist/worker.js", import.meta.url).pathname,
  modules: true,
  compatibilityDate: "2026-04-26",
  compatibilityFlags: ["nodejs_compat"],
  bindings,
  cf: false,
  host: "127.0.0.1",
  port,
});
let url;
try {
  url = await mf.ready;
} catch (error) {
  await mf.dispose().catch(() => undefined);
  fail(`workerd could not start: ${error?.message ?? error}`);
}
console.log(
  `descope-mcp xmcp example (workerd) listening on http://127.0.0.1:${url.port}${config.mcpPath} (resource ${config.resourceURL})`,
);
const stop = () => mf.dispose().finally(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
