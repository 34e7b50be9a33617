// The published files import nothing from Node, so the package runs wherever Hono runs: checked on
// the built files, and by running them in workerd with no compatibility flags at all (no Node APIs,
// no AsyncLocalStorage), where the gate must still work and getSession() must say what is missing.
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RemoteEmulator, startEmulator } from "../../../test/edge/emulator.js";

const PACKAGE = join(import.meta.dirname, "..");
const BUILTINS = new Set(builtinModules);

function specifiers(file: string): string[] {
  const text = readFileSync(join(PACKAGE, "dist", file), "utf8");
  const found = new Set<string>();
  for (const re of [
    /\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ]) {
    for (const m of text.matchAll(re)) found.add(m[1] as string);
  }
  return [...found].sort();
}

describe("the built package", () => {
  it.each(["index.js", "index.cjs"])("%s imports only Hono's types and the core", (file) => {
    const fromNode = specifiers(file).filter((s) => s.startsWith("node:") || BUILTINS.has(s.split("/")[0] as string));
    expect(fromNode).toEqual([]);
    expect(specifiers(file)).toEqual(["@descope-mcp/core"]);
  });
});

describe("in workerd without compatibility flags (no Node APIs)", () => {
  const RESOURCE = "https://mcp.example.com/mcp";
  let emu: RemoteEmulator;
  let mf: Miniflare;

  beforeAll(async () => {
    emu = await startEmulator();
    const worker = `
      import { Hono } from "hono";
      import { descopeMcpAuth, getSession } from "@descope-mcp/hono";
      let app;
      export default {
        fetch(request, env) {
          app ??= new Hono()
            .use(descopeMcpAuth({ issuerURL: env.ISSUER, baseURL: "https://mcp.example.com", toolScopes: { write_note: ["notes:write"] } }))
            .post("/mcp", (c) => {
              let current;
              try { current = getSession()?.userId ?? "none"; } catch (error) { current = error.message; }
              return c.json({ user: c.get("session").userId, body: c.get("parsedBody"), current, process: typeof process });
            });
          return app.fetch(request, env);
        },
      };`;
    const bundle = await build({
      stdin: { contents: worker, resolveDir: PACKAGE, loader: "js" },
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "main"],
      logLevel: "silent",
    });
    mf = new Miniflare({
      modules: true,
      script: bundle.outputFiles[0]?.text as string,
      compatibilityDate: "2025-09-01",
      compatibilityFlags: [],
      bindings: { ISSUER: emu.issuerURL },
      cf: false,
    });
    await mf.ready;
  });
  afterAll(async () => {
    await mf?.dispose();
    await emu?.close();
  });

  const call = (token: string | undefined, name: string) =>
    mf.dispatchFetch(RESOURCE, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } }),
    });

  it("loads and gates: 401, 403 before the route, and the caller for a valid call", async () => {
    expect((await call(undefined, "whoami")).status).toBe(401);
    const reader = await emu.mintToken({ aud: RESOURCE, scope: "openid" });
    expect((await call(reader, "write_note")).status).toBe(403);
    const r = await call(reader, "whoami");
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      user: "U2EmulatorUser0001",
      body: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } },
      current: expect.stringMatching(/^getSession\(\) needs AsyncLocalStorage.*nodejs_compat/),
      process: "undefined",
    });
  });
});
