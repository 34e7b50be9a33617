import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { createMcpExpressApp } from "@modelcontextprotocol/express";
import { NodeStreamableHTTPServerTransport, toNodeHandler } from "@modelcontextprotocol/node";
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import type { Request, Response } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attempt } from "../../../test/support/session-context.js";
import {
  type Adapter,
  BASE_URL,
  FLAVORS,
  listen,
  postMcp,
  type Running,
  rpcResult,
  toolCall,
  toolOutput,
} from "./helpers.js";

const RESOURCE = `${BASE_URL}/mcp`;

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
});
afterAll(() => emu.close());

const json = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] });
const expOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8")) as { exp: number }).exp;
/** Lets concurrent requests interleave inside the tool (no timing is asserted). */
const jitter = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 15)));

interface Seen {
  authInfo: {
    token?: string;
    clientId?: string;
    scopes?: string[];
    expiresAt?: number;
    resource?: string;
    extra?: { userId?: string; session?: { userId?: string } };
  } | null;
  /** `getSession(ctx)`: the session the transport handed to the tool. */
  sessionUserId: string | null;
  /** `getSession()`: the current session (with the `sessionContext` option), `"none"`, or what it threw. */
  currentUserId: string;
}

/** A v2 server whose `whoami` tool reports `ctx.http.authInfo`, `getSession(ctx)` and `getSession()`. */
function v2Server(adapter: Adapter, calls: string[]) {
  const server = new McpServer({ name: "v2", version: "1.0.0" });
  server.registerTool("whoami", { description: "who is calling" }, async (ctx) => {
    await jitter();
    calls.push("whoami");
    return json({
      authInfo: ctx.http?.authInfo ?? null,
      sessionUserId: adapter.getSession(ctx)?.userId ?? null,
      currentUserId: attempt(() => adapter.getSession()),
    });
  });
  server.registerTool("write_note", { description: "needs notes:write" }, async () => {
    calls.push("write_note");
    return json({ saved: true });
  });
  return server;
}

/** The v1 (`@modelcontextprotocol/sdk` 1.x) equivalent, reporting `extra.authInfo`. */
function v1Server(adapter: Adapter, calls: string[]) {
  const server = new McpServerV1({ name: "v1", version: "1.0.0" });
  server.registerTool("whoami", { description: "who is calling" }, async (extra) => {
    await jitter();
    calls.push("whoami");
    return json({
      authInfo: extra.authInfo ?? null,
      sessionUserId: adapter.getSession(extra)?.userId ?? null,
      currentUserId: attempt(() => adapter.getSession()),
    });
  });
  server.registerTool("write_note", { description: "needs notes:write" }, async () => {
    calls.push("write_note");
    return json({ saved: true });
  });
  return server;
}

function v2Endpoint(adapter: Adapter, calls: string[]) {
  return async (req: Request, res: Response) => {
    const server = v2Server(adapter, calls);
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
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      if (!res.headersSent) res.status(500).json({ error: String(error) });
    }
  };
}

function v1Endpoint(adapter: Adapter, calls: string[]) {
  return async (req: Request, res: Response) => {
    const server = v1Server(adapter, calls);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      if (!res.headersSent) res.status(500).json({ error: String(error) });
    }
  };
}

const POLICY = () => ({
  issuerURL: emu.issuerURL,
  baseURL: BASE_URL,
  toolScopes: { write_note: ["notes:write"] },
});

async function whoami(url: string, token: string, id = 1): Promise<Seen> {
  const res = await postMcp(url, toolCall("whoami", id), token);
  expect(res.status).toBe(200);
  const message = (await rpcResult(res)) as { id: number };
  expect(message.id).toBe(id);
  return toolOutput(message) as Seen;
}

/** `current`: what `getSession()` must answer in the tool (checked when given). */
function expectCaller(seen: Seen, token: string, userId: string, scopes: string[], current?: string) {
  expect(seen.sessionUserId).toBe(userId);
  if (current !== undefined) expect(seen.currentUserId).toBe(current);
  expect(seen.authInfo).not.toBeNull();
  expect(seen.authInfo?.clientId).toBe("emulator-client");
  expect(seen.authInfo?.scopes).toEqual(scopes);
  expect(seen.authInfo?.expiresAt).toBe(expOf(token));
  expect(seen.authInfo?.resource).toBe(RESOURCE);
  expect(seen.authInfo?.extra?.userId).toBe(userId);
  expect(seen.authInfo?.extra?.session?.userId).toBe(userId);
}

describe.each(FLAVORS)("MCP SDK servers behind the gate on $name", ({ express, adapter }) => {
  const sdks = [
    ["SDK v2 (ctx.http.authInfo)", v2Endpoint],
    ["SDK v1 (extra.authInfo)", v1Endpoint],
  ] as const;

  describe.each(sdks)("%s", (_sdk, endpoint) => {
    let gateParses: Running; // router first, no body parser: the gate parses, the route passes req.body; sessionContext
    let routeParses: Running; // the example's layout: router first, express.json() on the route
    const calls: string[] = [];

    beforeAll(async () => {
      const a = express();
      a.use(adapter.descopeMcpAuth({ ...POLICY(), sessionContext: true }));
      a.post("/mcp", endpoint(adapter, calls));
      gateParses = await listen(a);

      const b = express();
      b.use(adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL })); // no toolScopes: no parse
      b.post("/mcp", express.json(), endpoint(adapter, calls));
      routeParses = await listen(b);
    });
    afterAll(async () => {
      await gateParses.close();
      await routeParses.close();
    });

    it("hands the tool the caller's AuthInfo and session (and the current session with sessionContext)", async () => {
      // Another engine of the process turned the session context on: without the option, this gate
      // runs nothing in it, so getSession() finds no session there.
      for (const [server, current] of [
        [gateParses, "U-sdk-1"],
        [routeParses, "none"],
      ] as const) {
        const token = await emu.mintToken({ sub: "U-sdk-1", scope: "openid notes:read" });
        expectCaller(await whoami(`${server.url}/mcp`, token), token, "U-sdk-1", ["openid", "notes:read"], current);
      }
    });

    it("refuses a tool call lacking the tool's scope with 403 before the tool runs", async () => {
      const before = calls.length;
      const res = await postMcp(`${gateParses.url}/mcp`, toolCall("write_note"), await emu.mintToken());
      expect(res.status).toBe(403);
      expect(res.headers.get("www-authenticate")).toBe(
        `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="notes:write openid", resource_metadata="${BASE_URL}/.well-known/oauth-protected-resource/mcp"`,
      );
      expect(calls.length).toBe(before);
      const ok = await postMcp(
        `${gateParses.url}/mcp`,
        toolCall("write_note", 2),
        await emu.mintToken({ scope: "notes:write" }),
      );
      expect(ok.status).toBe(200);
      expect(toolOutput(await rpcResult(ok))).toEqual({ saved: true });
      expect(calls.slice(before)).toEqual(["write_note"]);
    });

    it("isolates 50 concurrent callers: every tool sees its own user (its context; AsyncLocalStorage)", async () => {
      for (const [server, withContext] of [
        [gateParses, true],
        [routeParses, false],
      ] as const) {
        const users = Array.from({ length: 50 }, (_, i) => `U-concurrent-${String(i).padStart(2, "0")}`);
        const tokens = await Promise.all(users.map((sub, i) => emu.mintToken({ sub, scope: `openid n:${i}` })));
        const seen = await Promise.all(tokens.map((token, i) => whoami(`${server.url}/mcp`, token, i + 1)));
        seen.forEach((s, i) => {
          const user = users[i] as string;
          expectCaller(s, tokens[i] as string, user, ["openid", `n:${i}`], withContext ? user : "none");
        });
      }
      expect(adapter.getSession()).toBeUndefined();
    });
  });

  it("getSession() is undefined and requireSession() throws outside a request", () => {
    expect(adapter.getSession()).toBeUndefined();
    expect(() => adapter.requireSession()).toThrow(
      "No Descope session: this code is not running inside an authenticated MCP request",
    );
  });
});

describe("SDK v2 mounted through @modelcontextprotocol/express (createMcpExpressApp + createMcpHandler)", () => {
  // createMcpExpressApp() is an Express 5 app with express.json() and Host/Origin checks already
  // installed, so the body is parsed before the gate; the handler gets `req.body` passed on.
  const { adapter } = FLAVORS[0] as (typeof FLAVORS)[number];
  let server: Running;
  const calls: string[] = [];

  beforeAll(async () => {
    const app = createMcpExpressApp();
    app.use(adapter.descopeMcpAuth(POLICY()));
    const mcp = toNodeHandler(createMcpHandler(() => v2Server(adapter, calls)));
    app.post("/mcp", (req, res) => mcp(req, res, req.body));
    server = await listen(app);
  });
  afterAll(() => server.close());

  it("gates it: 401 without a token", async () => {
    const res = await postMcp(`${server.url}/mcp`, toolCall("whoami"));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      `Bearer scope="openid", resource_metadata="${BASE_URL}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it("hands the tool ctx.http.authInfo and the session", async () => {
    const token = await emu.mintToken({ sub: "U-handler", scope: "openid" });
    expectCaller(await whoami(`${server.url}/mcp`, token), token, "U-handler", ["openid"]);
  });

  it("answers 403 for a tool needing a scope, before dispatch", async () => {
    const before = calls.length;
    const res = await postMcp(
      `${server.url}/mcp`,
      [toolCall("whoami", 1), toolCall("write_note", 2)],
      await emu.mintToken(),
    );
    expect(res.status).toBe(403);
    expect(calls.length).toBe(before);
  });

  it("serves the metadata routes too", async () => {
    const res = await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { resource: string }).resource).toBe(RESOURCE);
  });
});
