#!/usr/bin/env node
// Builds the example for both targets:
//   1. `xmcp build`       → dist/http.js (the Node server)
//   2. `xmcp build --cf`  → worker.js (xmcp's Cloudflare worker; an intermediate, not kept by turbo)
//   3. esbuild src/worker.ts (descopeWorker around worker.js) → dist/worker.js, self-contained
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

// Colour codes xmcp prints (ESC [ … m).
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, XMCP_TELEMETRY_DISABLED: "true" };
// The build must not bake a developer's shell values; the bundler hook reads them at run time.
for (const name of ["PORT", "HOST", "MCP_PATH"]) delete env[name];

function xmcp(...args) {
  const result = spawnSync(process.execPath, [join(root, "node_modules/xmcp/dist/cli.js"), "build", ...args], {
    cwd: root,
    env,
    encoding: "utf8",
  });
  if (result.status !== 0 || /\berror\b/i.test(`${result.stdout}\n${result.stderr}`.replace(ANSI, ""))) {
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    console.error(`xmcp build ${args.join(" ")} failed`);
    process.exit(1);
  }
}

xmcp();
xmcp("--cf");
await build({
  entryPoints: [join(root, "src/worker.ts")],
  outfile: join(root, "dist/worker.js"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "import"],
  mainFields: ["module", "main"],
  external: ["async_hooks", "node:*", "cloudflare:*"],
  logLevel: "warning",
});
console.log("built dist/http.js and dist/worker.js");
