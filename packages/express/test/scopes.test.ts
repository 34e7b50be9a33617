import { ConfigurationError, type DescopeMcpAuthOptions } from "@descope-mcp/core";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import { McpServer } from "@modelcontextprotocol/server";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_URL, FLAVORS, listen, postMcp, type Running, rpcResult, toolCall } from "./helpers.js";

const RESOURCE = `${BASE_URL}/mcp`;
const PRM = `${BASE_URL}/.well-known/oauth-protected-resource/mcp`;

const POLICY: DescopeMcpAuthOptions = {
  issuerURL: "", // set in beforeAll
  baseURL: BASE_URL,
  requiredScopes: ["mcp:use"],
  toolScopes: { write_note: ["notes:write"], purge: ["notes:write", "admin:purge"] },
};

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
  POLICY.issuerURL = emu.issuerURL;
});
afterAll(() => emu.close());

const insufficient = (missing: string, scope: string) =>
  `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: ${missing}", scope="${scope}", resource_metadata="${PRM}"`;

/** A stateless MCP SDK v2 endpoint whose tools record every call they get. */
function mcpEndpoint(calls: string[], bodies: unknown[], pass: (req: Request) => unknown = (req) => req.body) {
  return async (req: Request, res: Response) => {
    bodies.push(req.body);
    const server = new McpServer({ name: "scoped", version: "1.0.0" });
    for (const name of ["read_note", "write_note", "purge"]) {
      server.registerTool(name, { description: name }, async () => {
        calls.push(name);
        return { content: [{ type: "text", text: `${name} done` }] };
      });
    }
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, pass(req));
    } catch (error) {
      if (!res.headersSent) res.status(500).json({ error: String(error) });
    }
  };
}

describe.each(FLAVORS)("per-tool scopes on $name", ({ name, express, adapter }) => {
  // Three ways apps are wired: body parsed before the router, the gate parsing it itself (router
  // before any parser, handler passes req.body), and express.json() on the route after the router.
  const layouts = {
    "express.json() before the router": () => {
      const app = express();
      app.use(express.json());
      app.use(adapter.descopeMcpAuth(POLICY));
      return app;
    },
    "router before any body parser": () => {
      const app = express();
      app.use(adapter.descopeMcpAuth(POLICY));
      return app;
    },
    "express.json() on the route after the router": () => {
      const app = express();
      app.use(adapter.descopeMcpAuth(POLICY));
      app.use("/mcp", express.json());
      return app;
    },
  } as const;

  describe.each(Object.keys(layouts) as (keyof typeof layouts)[])("with %s", (layout) => {
    let server: Running;
    const calls: string[] = [];
    const bodies: unknown[] = [];

    beforeAll(async () => {
      const app = layouts[layout]();
      app.post("/mcp", mcpEndpoint(calls, bodies));
      server = await listen(app);
    });
    afterAll(() => server.close());

    const url = () => `${server.url}/mcp`;

    it("answers 403 insufficient_scope before the MCP SDK dispatches the tool", async () => {
      const before = { calls: calls.length, bodies: bodies.length };
      const res = await postMcp(url(), toolCall("write_note"), await emu.mintToken({ scope: "mcp:use" }));
      expect(res.status).toBe(403);
      expect(res.headers.get("www-authenticate")).toBe(insufficient("notes:write", "mcp:use notes:write"));
      expect(res.headers.get("access-control-expose-headers")).toBe(
        "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version",
      );
      expect(await res.json()).toEqual({
        error: "insufficient_scope",
        error_description: "The access token lacks required scopes: notes:write",
        scope: "mcp:use notes:write",
        missing_scopes: ["notes:write"],
        token_scopes: ["mcp:use"],
        required_scopes: ["mcp:use", "notes:write"],
      });
      // Neither the tool nor even the MCP route ran.
      expect(calls.length).toBe(before.calls);
      expect(bodies.length).toBe(before.bodies);
    });

    it("finds a tools/call hidden in a JSON-RPC batch and names every scope the batch needs", async () => {
      const before = calls.length;
      const batch = [toolCall("read_note", 1), toolCall("purge", 2), toolCall("write_note", 3)];
      const res = await postMcp(url(), batch, await emu.mintToken({ scope: "mcp:use openid" }));
      expect(res.status).toBe(403);
      expect(res.headers.get("www-authenticate")).toBe(
        insufficient("notes:write admin:purge", "admin:purge mcp:use notes:write openid"),
      );
      expect(((await res.json()) as { required_scopes: string[] }).required_scopes).toEqual([
        "mcp:use",
        "notes:write",
        "admin:purge",
      ]);
      expect(calls.length).toBe(before);
    });

    it("dispatches when the token holds the tool's scopes, and the handler receives the parsed req.body", async () => {
      const before = calls.length;
      const res = await postMcp(
        url(),
        toolCall("write_note", 7),
        await emu.mintToken({ scope: "mcp:use notes:write" }),
      );
      expect(res.status).toBe(200);
      expect(await rpcResult(res)).toEqual({
        jsonrpc: "2.0",
        id: 7,
        result: { content: [{ type: "text", text: "write_note done" }] },
      });
      expect(calls.slice(before)).toEqual(["write_note"]);
      expect(bodies.at(-1)).toEqual(toolCall("write_note", 7));
    });

    it("honours the scope hierarchy (notes:* covers notes:write) across a whole batch", async () => {
      const before = calls.length;
      const batch = [toolCall("read_note", 1), toolCall("write_note", 2)];
      const res = await postMcp(url(), batch, await emu.mintToken({ scope: "mcp:use notes:*" }));
      expect(res.status).toBe(200);
      expect(await rpcResult(res)).toEqual([
        { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "read_note done" }] } },
        { jsonrpc: "2.0", id: 2, result: { content: [{ type: "text", text: "write_note done" }] } },
      ]);
      expect(calls.slice(before)).toEqual(["read_note", "write_note"]);
    });

    it("lets a tool without per-tool scopes through with the server-wide scope", async () => {
      const res = await postMcp(url(), toolCall("read_note"), await emu.mintToken({ scope: "mcp:use" }));
      expect(res.status).toBe(200);
    });

    it("answers a malformed JSON body with 400 when a valid token is presented", async () => {
      const before = { calls: calls.length, bodies: bodies.length };
      const res = await postMcp(
        url(),
        '{"jsonrpc":"2.0","method":"tools/call",',
        await emu.mintToken({ scope: "mcp:use" }),
      );
      expect(res.status).toBe(400);
      if (layout === "express.json() before the router") {
        // The app's own parser refuses it before the gate runs (Express's error handler).
        expect(res.headers.get("www-authenticate")).toBeNull();
      } else {
        expect(res.headers.get("www-authenticate")).toBe(
          `Bearer error="invalid_request", error_description="The request body is not valid JSON", scope="mcp:use", resource_metadata="${PRM}"`,
        );
        expect(await res.json()).toEqual({
          error: "invalid_request",
          error_description: "The request body is not valid JSON",
        });
      }
      expect(calls.length).toBe(before.calls);
      expect(bodies.length).toBe(before.bodies);
    });

    it("checks the token before reading the body: no token and a malformed body is a 401", async () => {
      if (layout === "express.json() before the router") return; // the app parses first by design
      const res = await postMcp(url(), "{not json");
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe(`Bearer scope="mcp:use", resource_metadata="${PRM}"`);
    });
  });

  it("cannot be bypassed with a Content-Type the app's JSON parser skips (handler reading the stream)", async () => {
    // Express 4's express.json() leaves `req.body = {}` on a request whose Content-Type it cannot
    // parse; an MCP transport that reads the stream itself still accepts `application/json; charset`.
    const calls: string[] = [];
    const app = express();
    app.use(express.json());
    app.use(adapter.descopeMcpAuth(POLICY));
    app.post(
      "/mcp",
      mcpEndpoint(calls, [], (req) => (req.headers["x-pass-body"] ? req.body : undefined)),
    );
    const server = await listen(app);
    try {
      const token = await emu.mintToken({ scope: "mcp:use" });
      for (const contentType of [
        "application/json",
        "application/json; charset",
        "application/json;;",
        "APPLICATION/JSON ;x",
      ]) {
        const res = await postMcp(`${server.url}/mcp`, toolCall("write_note"), token, { "content-type": contentType });
        expect(res.status, `${name} ${contentType}`).toBe(403);
        expect(res.headers.get("www-authenticate")).toBe(insufficient("notes:write", "mcp:use notes:write"));
      }
      // With the scope, the gate has read the body itself (the stream is drained), so a handler that
      // ignores req.body fails closed with the SDK's parse error, and one that passes it works.
      const allowed = await emu.mintToken({ scope: "mcp:use notes:write" });
      const drained = await postMcp(`${server.url}/mcp`, toolCall("write_note"), allowed, {
        "content-type": "application/json; charset",
      });
      expect(drained.status).toBe(400);
      expect(await drained.json()).toEqual({
        jsonrpc: "2.0",
        error: { code: -32700, message: "Parse error: Invalid JSON" },
        id: null,
      });
      expect(calls).toEqual([]);
      const ok = await postMcp(`${server.url}/mcp`, toolCall("write_note"), allowed, {
        "content-type": "application/json; charset",
        "x-pass-body": "1",
      });
      expect(ok.status).toBe(200);
      expect(calls).toEqual(["write_note"]);
    } finally {
      await server.close();
    }
  });

  it("inspects a raw (Buffer) body parsed by express.raw() before the router", async () => {
    const calls: string[] = [];
    const app = express();
    app.use(express.raw({ type: "*/*" }));
    app.use(adapter.descopeMcpAuth(POLICY));
    app.post(
      "/mcp",
      mcpEndpoint(calls, [], (req) => JSON.parse((req.body as Buffer).toString("utf8"))),
    );
    const server = await listen(app);
    try {
      const res = await postMcp(
        `${server.url}/mcp`,
        [toolCall("read_note"), toolCall("write_note", 2)],
        await emu.mintToken({ scope: "mcp:use" }),
      );
      expect(res.status).toBe(403);
      expect(res.headers.get("www-authenticate")).toBe(insufficient("notes:write", "mcp:use notes:write"));
      expect(calls).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe.each(FLAVORS)("requireScopes route middleware on $name", ({ express, adapter }) => {
  let server: Running;
  const errors: unknown[] = [];

  beforeAll(async () => {
    const app = express();
    const router = adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, requiredScopes: ["mcp:use"] });
    app.use(router);
    const who: RequestHandler = (req, res) => {
      res.json({ userId: adapter.sessionOf(req)?.userId ?? null });
    };
    app.post("/mcp/admin", router.requireScopes("admin:purge"), who);
    app.post("/mcp/reports", adapter.requireScopes("reports:read", "reports:export"), who);
    app.get("/open", adapter.requireScopes("x"), who);
    app.get("/open-router", router.requireScopes("x"), who);
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(error);
      res.status(500).json({ error: "server_error" });
    });
    server = await listen(app);
  });
  afterAll(() => server.close());

  const call = async (path: string, scope: string) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${await emu.mintToken({ scope, sub: "U-scoped" })}` },
    });

  it("router.requireScopes answers 403 with the exact step-up challenge when a scope is missing", async () => {
    const res = await call("/mcp/admin", "mcp:use");
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe(insufficient("admin:purge", "admin:purge mcp:use"));
    expect(await res.json()).toEqual({
      error: "insufficient_scope",
      error_description: "The access token lacks required scopes: admin:purge",
      scope: "admin:purge mcp:use",
      missing_scopes: ["admin:purge"],
      token_scopes: ["mcp:use"],
      required_scopes: ["admin:purge"],
    });
  });

  it("router.requireScopes passes with the scope, or a broader a:* scope", async () => {
    for (const scope of ["mcp:use admin:purge", "mcp:use admin:*"]) {
      const res = await call("/mcp/admin", scope);
      expect(res.status, scope).toBe(200);
      expect(await res.json()).toEqual({ userId: "U-scoped" });
    }
    const notBroader = await call("/mcp/admin", "mcp:use admin");
    expect(notBroader.status).toBe(403);
  });

  it("the standalone requireScopes names every scope and uses the engine of the gate that ran", async () => {
    const res = await call("/mcp/reports", "mcp:use reports:read");
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe(
      insufficient("reports:export", "mcp:use reports:export reports:read"),
    );
    const ok = await call("/mcp/reports", "mcp:use reports:*");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ userId: "U-scoped" });
  });

  it("the gate still runs first: no token on a requireScopes route is a 401", async () => {
    const res = await fetch(`${server.url}/mcp/admin`, { method: "POST" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer scope="mcp:use", resource_metadata="${PRM}"`);
  });

  it("fails with a clear ConfigurationError on a route the gate does not protect", async () => {
    for (const path of ["/open", "/open-router"]) {
      const before = errors.length;
      const res = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${await emu.mintToken({ scope: "x" })}` },
      });
      expect(res.status).toBe(500);
      expect(errors.length).toBe(before + 1);
      const error = errors.at(-1);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe(
        "requireScopes() is used on a route that the Descope gate does not protect",
      );
    }
  });
});
