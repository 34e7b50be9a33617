#!/usr/bin/env node
// Runs the xmcp HTTP build (dist/http.js) under the example contract: checks the environment first,
// and prints one `listening` line once xmcp listens on exactly PORT (xmcp itself would move to the
// next port when PORT is taken; this refuses instead). PORT, HOST and MCP_PATH are read by the build
// at run time (see the bundler hook in xmcp.config.ts).
import { checkEnvironment, fail } from "./env.mjs";

// Colour codes xmcp prints (ESC [ … m).
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

const { port, config } = checkEnvironment();
process.env.XMCP_TELEMETRY_DISABLED ??= "true";

const log = console.log.bind(console);
// xmcp announces itself with `✔ MCP Server running on http://host:port/path` (ANSI colours) and a
// taken port with `Port N is in use, trying N+1 instead.`: watch for both, pass everything else on.
console.log = (...args) => {
  const line = args.map(String).join(" ").replace(ANSI, "");
  if (/ is in use, trying /.test(line)) fail(`PORT ${port} is in use`);
  const running = /MCP Server running on http:\/\/([^:/]+):(\d+)/.exec(line);
  if (running) {
    console.log = log;
    log(
      `descope-mcp xmcp example listening on http://${running[1]}:${running[2]}${config.mcpPath} (resource ${config.resourceURL})`,
    );
    return;
  }
  log(...args);
};

await import("../dist/http.js");
