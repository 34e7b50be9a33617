// The built package (and the core under it) in real workerd processes (Miniflare), as a Worker
// bundle: with no compatibility flags at all (no Node APIs, no AsyncLocalStorage), and across
// requests — a shared Descope fetch outliving the request that started it, which workerd cancels
// unless it is handed to `waitUntil`.
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RemoteEmulator, startEmulator } from "../../../test/edge/emulator.js";

const PACKAGE = join(import.meta.dirname, "..");
const RESOURCE = "https://mcp.example.com/mcp";

/** Bundles `source` (an ES module Worker importing hono and the built @descope-mcp/hono) and serves it. */
async function worker(source: string, flags: string[], bindings: Record<string, string>): Promise<Miniflare> {
  const bundle = await build({
    stdin: { contents: source, resolveDir: PACKAGE, loader: "js" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*"],
    logLevel: "silent",
  });
  const mf = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]?.text as string,
    compatibilityDate: "2025-09-01",
    compatibilityFlags: flags,
    bindings,
    cf: false,
  });
  await mf.ready;
  return mf;
}

let emu: RemoteEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu?.close());

const call = (mf: Miniflare, token: string | undefined, name: string) =>
  mf.dispatchFetch(RESOURCE, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } }),
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("in workerd without compatibility flags (no Node APIs)", () => {
  let mf: Miniflare;
  beforeAll(async () => {
    mf = await worker(
      `import { Hono } from "hono";
      import { descopeMcpAuth, getSession } from "@descope-mcp/hono";
      let app;
      export default {
        fetch(request, env) {
          app ??= new Hono()
            .use(descopeMcpAuth({ issuerURL: env.ISSUER, baseURL: "https://mcp.example.com", toolScopes: { write_note: ["notes:write"] } }))
            .post("/mcp", (c) => {
              let current;
              try { current = getSession()?.userId ?? "none"; } catch (error) { current = error.message; }
              let sessionContext;
              try {
                descopeMcpAuth({ issuerURL: env.ISSUER, baseURL: "https://mcp.example.com", sessionContext: true });
                sessionContext = "created";
              } catch (error) { sessionContext = error.message; }
              const fromContext = getSession({ authInfo: c.get("auth") })?.userId;
              return c.json({ user: c.get("session").userId, body: c.get("parsedBody"), current, sessionContext, fromContext, process: typeof process });
            });
          return app.fetch(request, env);
        },
      };`,
      [],
      { ISSUER: emu.issuerURL },
    );
  });
  afterAll(() => mf?.dispose());

  it("loads and gates: 401, 403 before the route, and the caller for a valid call", async () => {
    expect((await call(mf, undefined, "whoami")).status).toBe(401);
    const reader = await emu.mintToken({ aud: RESOURCE, scope: "openid" });
    expect((await call(mf, reader, "write_note")).status).toBe(403);
    const r = await call(mf, reader, "whoami");
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      user: "U2EmulatorUser0001",
      body: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } },
      current: expect.stringMatching(/^getSession\(\) needs AsyncLocalStorage.*nodejs_compat/),
      // The option that needs AsyncLocalStorage fails when the engine is made, not on a request.
      sessionContext: expect.stringMatching(/^sessionContext needs AsyncLocalStorage.*nodejs_compat/),
      // The caller handed over explicitly needs nothing from the runtime.
      fromContext: "U2EmulatorUser0001",
      process: "undefined",
    });
  });
});

describe("a JWKS fetch outliving the request that started it", () => {
  // Each request waits at most 200 ms for Descope; the JWKS fetch itself may take 300 ms.
  const source = (withWaitUntil: boolean) => `
    import { waitUntil } from "cloudflare:workers";
    import { Hono } from "hono";
    import { descopeMcpAuth } from "@descope-mcp/hono";
    let app;
    export default {
      fetch(request, env) {
        app ??= new Hono()
          .use(descopeMcpAuth({
            issuerURL: env.ISSUER, jwksURL: env.JWKS, baseURL: "https://mcp.example.com",
            timeouts: { request: 200, jwks: 300 }, failureBackoffSeconds: 0.1,
            ${withWaitUntil ? "waitUntil," : ""}
          }))
          .post("/mcp", (c) => c.json({ user: c.get("session").userId }));
        return app.fetch(request, env);
      },
    };`;

  it.each([
    // Kept alive, the fetch times out after its 300 ms and the next request fetches again.
    ["with waitUntil", true, 1500],
    // Cancelled by workerd, it never settles: given up once past 300 ms + the 1 s margin.
    ["without waitUntil", false, 3000],
  ] as const)("%s: later requests recover once the fetch has settled or counts as lost", async (_name, keep, wait) => {
    const mf = await worker(source(keep), ["nodejs_compat"], { ISSUER: emu.issuerURL, JWKS: emu.jwksURL });
    try {
      const token = await emu.mintToken({ aud: RESOURCE, jti: `recover-${keep}` });
      await emu.setFault("jwks", { delayMs: 20_000 });
      const first = await call(mf, token, "whoami");
      expect(first.status).toBe(503);
      await emu.setFault("jwks", undefined);
      await sleep(wait);
      const later = await call(mf, token, "whoami");
      expect(later.status).toBe(200);
      expect(await later.json()).toEqual({ user: "U2EmulatorUser0001" });
    } finally {
      await mf.dispose();
    }
  });
});
