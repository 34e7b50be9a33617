// The Hono middleware through `app.request()`, on Node and inside workerd (the same file runs in
// both vitest projects): metadata, the gate, typed variables, the body the gate judged, scopes,
// getSession(), and interplay with @modelcontextprotocol/hono's JSON middleware.
import { createDescopeMcpAuth, type DescopeMcpAuthOptions } from "@descope-mcp/core";
import { createMcpHonoApp } from "@modelcontextprotocol/hono";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RemoteEmulator, startEmulator } from "../../../test/edge/emulator.js";
import { attempt, resetSessionContext } from "../../../test/support/session-context.js";
import { type DescopeMcpEnv, descopeMcpAuth, getSession, requireScopes, requireSession } from "../src/index.js";

const BASE_URL = "http://127.0.0.1:3000";
const RESOURCE = `${BASE_URL}/mcp`;
const PRM = `${BASE_URL}/.well-known/oauth-protected-resource/mcp`;

let emu: RemoteEmulator;
let reader: string;
let writer: string;
beforeAll(async () => {
  emu = await startEmulator();
  reader = await emu.mintToken({ aud: RESOURCE, scope: "openid" });
  writer = await emu.mintToken({ aud: RESOURCE, scope: "openid notes:write admin:*" });
});
afterAll(() => emu?.close());

const options = (extra: Partial<DescopeMcpAuthOptions> = {}): DescopeMcpAuthOptions => ({
  issuerURL: emu.issuerURL,
  baseURL: BASE_URL,
  toolScopes: { write_note: ["notes:write"] },
  challengeScopes: ["openid"],
  ...extra,
});

const call = (name: string, id = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } });
const post = (token: string | undefined, body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: {
    "content-type": "application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...headers,
  },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

/** An app whose MCP route records what it saw (typed: `c.get("auth")` is the MCP AuthInfo). */
function recordingApp(extra: Partial<DescopeMcpAuthOptions> = {}) {
  const seen: Array<Record<string, unknown>> = [];
  const app = new Hono<DescopeMcpEnv>();
  app.get("/health", (c) => c.json({ ok: true }));
  app.use(descopeMcpAuth(options(extra)));
  app.post("/mcp", async (c) => {
    const auth = c.get("auth");
    const session = c.get("session");
    seen.push({
      clientId: auth.clientId,
      scopes: auth.scopes,
      token: auth.token === session.token,
      userId: session.userId,
      parsedBody: c.get("parsedBody"),
      json: await c.req.json().catch((e: Error) => `json() failed: ${e.message}`),
      current: attempt(() => getSession()),
      required: attempt(() => requireSession()),
    });
    return c.json({ ran: true }, 200, { "x-app": "yes" });
  });
  return { app, seen };
}

describe("descopeMcpAuth", () => {
  it("serves the metadata routes (and 405 for other methods)", async () => {
    const { app } = recordingApp();
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const r = await app.request(path);
      expect(r.status).toBe(200);
      expect(r.headers.get("access-control-allow-origin")).toBe("*");
      expect(await r.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: [emu.issuerURL],
        bearer_methods_supported: ["header"],
        scopes_supported: ["openid", "notes:write"],
      });
    }
    const as = await app.request("/.well-known/oauth-authorization-server");
    expect((await as.json()).issuer).toBe(emu.issuerURL);
    const trace = await app.request("/.well-known/oauth-protected-resource", { method: "DELETE" });
    expect(trace.status).toBe(405);
    expect(trace.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("answers 401 with the challenge, and leaves other paths to the app", async () => {
    const { app, seen } = recordingApp();
    const r = await app.request("/mcp", post(undefined, call("whoami")));
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe(`Bearer scope="openid", resource_metadata="${PRM}"`);
    expect(await r.json()).toEqual({ error: "unauthorized", error_description: expect.any(String) });
    expect((await app.request("/health")).status).toBe(200);
    expect((await app.request("/nothing")).status).toBe(404);
    expect(seen).toEqual([]);
  });

  it("lets a valid caller through with typed variables, the judged body and CORS headers; getSession() says how to turn it on", async () => {
    resetSessionContext();
    const { app, seen } = recordingApp();
    const r = await app.request("/mcp", post(writer, call("write_note")));
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    const off = /^getSession\(\) without an argument needs the session context: turn on the sessionContext option/;
    expect(seen).toEqual([
      expect.objectContaining({
        userId: "U2EmulatorUser0001",
        current: expect.stringMatching(off),
        required: expect.stringMatching(off),
      }),
    ]);
  });

  it("with sessionContext, getSession() finds the caller anywhere below the gate, and nothing outside", async () => {
    const { app, seen } = recordingApp({ sessionContext: true });
    const r = await app.request("/mcp", post(writer, call("write_note")));
    expect(r.status).toBe(200);
    expect(r.headers.get("x-app")).toBe("yes");
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(r.headers.get("access-control-expose-headers")).toBe(
      "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version",
    );
    expect(seen).toEqual([
      {
        clientId: "emulator-client",
        scopes: ["openid", "notes:write", "admin:*"],
        token: true,
        userId: "U2EmulatorUser0001",
        parsedBody: call("write_note"),
        json: call("write_note"), // c.req.json() answers from the body the gate judged
        current: "U2EmulatorUser0001",
        required: "U2EmulatorUser0001",
      },
    ]);
    expect(getSession()).toBeUndefined(); // outside the request
  });

  it("refuses a tool call the token lacks scopes for, before any route runs", async () => {
    const { app, seen } = recordingApp();
    const r = await app.request("/mcp", post(reader, [call("whoami", 1), call("write_note", 2)]));
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="notes:write openid", resource_metadata="${PRM}"`,
    );
    expect(seen).toEqual([]);
  });

  it.each(["/MCP", "/mcp/", "//mcp", "/mcp/sub", "/%6Dcp"])(
    "gates %s too, although Hono does not route it to /mcp",
    async (path) => {
      const { app, seen } = recordingApp();
      expect((await app.request(path, post(undefined, call("whoami")))).status).toBe(401);
      expect((await app.request(path, post(reader, call("write_note")))).status).toBe(403);
      expect(seen).toEqual([]);
    },
  );

  it("gates an app mounted under a path (the gate sees the full URL)", async () => {
    const inner = new Hono<DescopeMcpEnv>();
    inner.use(descopeMcpAuth(options({ mcpPath: "/api/mcp" })));
    inner.post("/mcp", (c) => c.json({ user: c.get("session").userId }));
    const app = new Hono().route("/api", inner);
    expect((await app.request("/api/mcp", post(undefined, call("whoami")))).status).toBe(401);
    const ok = await app.request("/api/mcp", post(await emu.mintToken({ aud: `${BASE_URL}/api/mcp` }), call("x")));
    expect(await ok.json()).toEqual({ user: "U2EmulatorUser0001" });
  });

  it.each([
    ["text/plain", () => post(writer, call("write_note"), { "content-type": "text/plain" })],
    ["gzip", () => post(writer, call("write_note"), { "content-encoding": "gzip" })],
    ["malformed JSON", () => post(writer, '{"jsonrpc":')],
    ["two tokens", () => post(undefined, call("whoami"), { authorization: `Bearer ${writer}, Bearer ${reader}` })],
  ])("refuses %s with 400 invalid_request", async (_name, init) => {
    const { app, seen } = recordingApp();
    const r = await app.request("/mcp", init());
    expect(r.status).toBe(400);
    expect((await r.json()).error).toBe("invalid_request");
    expect(seen).toEqual([]);
  });

  it("refuses a body over bodyLimit with 413", async () => {
    const { app, seen } = recordingApp({ bodyLimit: 100 });
    const r = await app.request("/mcp", post(writer, { ...call("write_note"), pad: "x".repeat(200) }));
    expect(r.status).toBe(413);
    expect(seen).toEqual([]);
  });

  it("answers preflight itself (204, never 401); with cors: false OPTIONS reaches the app", async () => {
    const { app } = recordingApp();
    const r = await app.request("/mcp", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-methods")).toBe("GET, POST, DELETE, OPTIONS");
    const quiet = new Hono<DescopeMcpEnv>();
    quiet.use(descopeMcpAuth(options({ cors: false })));
    quiet.options("/mcp", (c) => c.text("app preflight", 200));
    quiet.post("/mcp", (c) => c.text("ok"));
    expect(await (await quiet.request("/mcp", { method: "OPTIONS" })).text()).toBe("app preflight");
    const plain = await quiet.request("/mcp", post(reader, call("whoami")));
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("takes an engine instead of options and exposes it as .auth", async () => {
    const engine = createDescopeMcpAuth(options());
    const middleware = descopeMcpAuth(engine);
    expect(middleware.auth).toBe(engine);
    const app = new Hono<DescopeMcpEnv>().use(middleware).post("/mcp", (c) => c.text(c.get("session").userId));
    expect(await (await app.request("/mcp", post(reader, call("whoami")))).text()).toBe("U2EmulatorUser0001");
  });

  it("validates options at once", () => {
    expect(() => descopeMcpAuth({ ...options(), baseURL: "nope" })).toThrow(/baseURL must be an absolute/);
  });
});

describe("the body an earlier middleware read", () => {
  const consumeWith = (parsed: boolean) =>
    createMiddleware(async (c, next) => {
      const body = await c.req.raw.json(); // the stream is gone
      if (parsed) c.set("parsedBody", body);
      await next();
    });

  it("is judged when that middleware handed it over as parsedBody", async () => {
    const app = new Hono<DescopeMcpEnv>();
    app.use(consumeWith(true));
    app.use(descopeMcpAuth(options()));
    app.post("/mcp", (c) => c.json(c.get("parsedBody")));
    expect((await app.request("/mcp", post(reader, call("write_note")))).status).toBe(403);
    expect(await (await app.request("/mcp", post(writer, call("write_note")))).json()).toEqual(call("write_note"));
  });

  it("is refused (400, not 500) when it is gone with nothing to show for it", async () => {
    const app = new Hono<DescopeMcpEnv>();
    app.use(consumeWith(false));
    app.use(descopeMcpAuth(options()));
    app.post("/mcp", (c) => c.text("must not run"));
    const r = await app.request("/mcp", post(writer, call("write_note")));
    expect(r.status).toBe(400);
    expect((await r.json()).error_description).toMatch(/consumed before the authorization gate/);
  });
});

describe("@modelcontextprotocol/hono's JSON middleware", () => {
  const route = (c: { get(key: "parsedBody"): unknown; json(value: unknown): Response }) =>
    c.json({ body: c.get("parsedBody") });
  const apps = {
    // createMcpHonoApp() parses first (a clone of the request), then the gate.
    "theirs, then the gate": () => {
      const app = createMcpHonoApp();
      app.use(descopeMcpAuth(options()));
      app.post("/mcp", route);
      return app;
    },
    // The gate first (it publishes parsedBody), then the SDK's app, whose parser then stands aside.
    "the gate, then theirs": () => {
      const mcp = createMcpHonoApp();
      mcp.post("/mcp", route);
      return new Hono().use(descopeMcpAuth(options())).route("/", mcp);
    },
  };

  it.each(Object.keys(apps) as Array<keyof typeof apps>)("%s: one body, judged and dispatched", async (order) => {
    const app = apps[order]();
    const headers = { host: "127.0.0.1:3000" };
    expect((await app.request("/mcp", post(reader, call("write_note"), headers))).status).toBe(403);
    const ok = await app.request("/mcp", post(writer, call("write_note"), headers));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ body: call("write_note") });
  });
});

describe("requireScopes", () => {
  it("answers 403 with a step-up challenge when the caller lacks a scope (hierarchy aware)", async () => {
    const gate = descopeMcpAuth(options());
    const app = new Hono<DescopeMcpEnv>().use(gate);
    app.post("/mcp/admin", gate.requireScopes("admin:purge"), (c) => c.text("purged"));
    app.post("/mcp/reports", requireScopes("reports:read"), (c) => c.text("report"));
    expect(await (await app.request("/mcp/admin", post(writer, call("x")))).text()).toBe("purged");
    const denied = await app.request("/mcp/admin", post(reader, call("x")));
    expect(denied.status).toBe(403);
    expect(denied.headers.get("www-authenticate")).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: admin:purge", scope="admin:purge openid", resource_metadata="${PRM}"`,
    );
    expect((await app.request("/mcp/reports", post(writer, call("x")))).status).toBe(403);
  });

  it("refuses to serve a route the gate does not protect (500, not an open door)", async () => {
    const app = new Hono<DescopeMcpEnv>().use(descopeMcpAuth(options()));
    app.get("/open", requireScopes("x"), (c) => c.text("open"));
    let error: unknown;
    app.onError((e, c) => {
      error = e;
      return c.text("error", 500);
    });
    expect((await app.request("/open")).status).toBe(500);
    expect(String(error)).toMatch(/requireScopes\(\) is used on a route that the Descope gate does not protect/);
  });
});
