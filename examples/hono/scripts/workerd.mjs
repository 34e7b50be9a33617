#!/usr/bin/env node
// `start:workerd`: the example as a Cloudflare Worker, served locally by workerd (through Miniflare)
// on 127.0.0.1:$PORT, offline, with the same environment variables as `start`. The Worker is
// dist/worker.js (one bundled ES module, `pnpm build`); compatibility date and flags come from
// wrangler.json, the file `wrangler deploy` uses.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { DescopeMcpError, ENV_VARS } from "@descope-mcp/core";
import { engineFrom, portFrom } from "../dist/config.js";

/** A listening socket on 127.0.0.1:`port`, or undefined when the port is taken. */
function listenOn(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

// The Worker reads its configuration on its first request; check it here first, with the same
// rules and messages, so a bad variable stops the launcher before it listens (as `start` does).
let port;
let mcpPath;
let resource;
try {
  port = portFrom(process.env);
  ({ mcpPath, resourceURL: resource } = engineFrom(process.env).config);
} catch (error) {
  if (error instanceof DescopeMcpError) fail(error.message);
  throw error;
}

const config = JSON.parse(readFileSync(new URL("../wrangler.json", import.meta.url), "utf8"));
// The Worker's `env`: every variable of the example contract that is set, as a text binding.
const bindings = {};
for (const name of [...Object.keys(ENV_VARS), "AUDIT_LOG"]) {
  if (process.env[name] !== undefined) bindings[name] = process.env[name];
}

// Loading Miniflare takes seconds: hold the port meanwhile, so that nothing else takes it.
const held = port === 0 ? undefined : await listenOn(port);
const { Log, LogLevel, Miniflare } = await import("miniflare");
await new Promise((resolve) => (held ? held.close(resolve) : resolve()));

const options = {
  modules: true,
  scriptPath: fileURLToPath(new URL("../dist/worker.js", import.meta.url)),
  compatibilityDate: config.compatibility_date,
  compatibilityFlags: config.compatibility_flags,
  bindings,
  host: "127.0.0.1",
  port,
  cf: false, // never fetch Cloudflare's request.cf data: stays offline
  log: new Log(LogLevel.WARN),
};
let mf;
let url;
for (let attempt = 1; ; attempt++) {
  mf = new Miniflare(options);
  try {
    url = await mf.ready;
    break;
  } catch (error) {
    await mf.dispose().catch(() => undefined);
    // Between our release and workerd's bind another socket may briefly use the port: try again.
    if (error?.code !== "ERR_ADDRESS_IN_USE" || attempt === 10) throw error;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

let stopping;
const stop = () => {
  stopping ??= mf.dispose().finally(() => process.exit(0));
  return stopping;
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, stop);
// If whoever started us dies without stopping us (SIGKILL), stop too: workerd must not outlive it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 1000).unref();

console.log(`descope-mcp hono example (workerd) listening on ${url.origin}${mcpPath} (resource ${resource})`);
