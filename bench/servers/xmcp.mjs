// The xmcp example as a benchmark target: `auth` is the real example (its Node build, started the
// way `pnpm start` does); `noauth` is the same app built without src/middleware.ts (same tools, same
// endpoint, no Descope provider). The variant is built here, beside the example so it resolves the
// same node_modules (a few seconds, once per start). PORT/BASE_URL/DESCOPE_ISSUER_URL come from the
// environment; one line containing "listening" means ready.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const example = join(dirname(fileURLToPath(import.meta.url)), "../../examples/xmcp");
const mode = process.argv[2];

if (mode === "auth") {
  await import(pathToFileURL(join(example, "scripts/server.mjs")).href);
} else {
  const variant = join(example, ".bench-noauth");
  rmSync(variant, { recursive: true, force: true });
  mkdirSync(join(variant, "src"), { recursive: true });
  for (const file of ["package.json", "xmcp.config.ts", "tsconfig.json"])
    cpSync(join(example, file), join(variant, file));
  for (const file of ["tools", "descope.ts"])
    cpSync(join(example, "src", file), join(variant, "src", file), { recursive: true });
  const env = { ...process.env, XMCP_TELEMETRY_DISABLED: "true" };
  for (const name of ["PORT", "HOST", "MCP_PATH"]) delete env[name];
  const built = spawnSync(process.execPath, [join(example, "node_modules/xmcp/dist/cli.js"), "build"], {
    cwd: variant,
    env,
    encoding: "utf8",
  });
  if (built.status !== 0) throw new Error(`xmcp build of the noauth variant failed:\n${built.stdout}\n${built.stderr}`);
  const log = console.log.bind(console);
  console.log = (...args) => {
    if (/MCP Server running/.test(args.map(String).join(" "))) {
      console.log = log;
      log(`listening (${mode})`);
      return;
    }
    log(...args);
  };
  process.env.XMCP_TELEMETRY_DISABLED = "true";
  await import(pathToFileURL(join(variant, "dist/http.js")).href);
}
