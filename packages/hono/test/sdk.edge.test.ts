// `mcpHandler` with the MCP SDK's Web-standard transports — v2 `createMcpHandler(...).fetch` and v1
// `WebStandardStreamableHTTPServerTransport.handleRequest` — driven by the official v2 and v1
// clients in-process (their `fetch` is `app.request`), on Node and inside workerd.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport as TransportServerV1 } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  createMcpHandler,
  McpServer,
  WebStandardStreamableHTTPServerTransport as TransportServerV2,
} from "@modelcontextprotocol/server";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RemoteEmulator, startEmulator } from "../../../test/edge/emulator.js";
import { attempt } from "../../../test/support/session-context.js";
import { type DescopeMcpEnv, descopeMcpAuth, getSession, mcpHandler } from "../src/index.js";

const BASE_URL = "http://127.0.0.1:3000";
const RESOURCE = `${BASE_URL}/mcp`;

let emu: RemoteEmulator;
let reader: string;
let writer: string;
beforeAll(async () => {
  emu = await startEmulator();
  reader = await emu.mintToken({ aud: RESOURCE, scope: "openid", azp: "client-r" });
  writer = await emu.mintToken({ aud: RESOURCE, scope: "openid notes:write", azp: "client-w" });
});
afterAll(() => emu?.close());

const text = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] });
const textOf = (result: unknown) =>
  JSON.parse((result as { content: Array<{ text: string }> }).content[0]?.text as string) as Record<string, unknown>;

/**
 * The tools both servers register: who the SDK says is calling, who `getSession(ctx)` reads from the
 * tool's context, and who `getSession()` finds in the session context (the gate's `sessionContext`).
 */
const ran: string[] = [];
function v2Server() {
  const server = new McpServer({ name: "notes-v2", version: "1.0.0" });
  server.registerTool("whoami", {}, async (ctx) =>
    text({ client: ctx.http?.authInfo?.clientId, user: getSession(ctx)?.userId, current: attempt(() => getSession()) }),
  );
  server.registerTool("write_note", {}, async () => {
    ran.push("v2 write_note");
    return text({ saved: true });
  });
  return server;
}
function v1Server() {
  const server = new McpServerV1({ name: "notes-v1", version: "1.0.0" });
  server.registerTool("whoami", {}, async (extra) =>
    text({ client: extra.authInfo?.clientId, user: getSession(extra)?.userId, current: attempt(() => getSession()) }),
  );
  server.registerTool("write_note", {}, async () => {
    ran.push("v1 write_note");
    return text({ saved: true });
  });
  return server;
}

const gate = () =>
  descopeMcpAuth({
    issuerURL: emu.issuerURL,
    baseURL: BASE_URL,
    toolScopes: { write_note: ["notes:write"] },
    sessionContext: true,
  });

const APPS = {
  "v2 createMcpHandler": () =>
    new Hono<DescopeMcpEnv>().use(gate()).all("/mcp", mcpHandler(createMcpHandler(v2Server))),
  "v2 WebStandardStreamableHTTPServerTransport": () =>
    new Hono<DescopeMcpEnv>().use(gate()).post(
      "/mcp",
      mcpHandler(async (request, options) => {
        const transport = new TransportServerV2({ sessionIdGenerator: undefined, enableJsonResponse: true });
        await v2Server().connect(transport);
        return transport.handleRequest(request, options);
      }),
    ),
  "v1 WebStandardStreamableHTTPServerTransport": () =>
    new Hono<DescopeMcpEnv>().use(gate()).post(
      "/mcp",
      mcpHandler(async (request, options) => {
        const transport = new TransportServerV1({ sessionIdGenerator: undefined, enableJsonResponse: true });
        await v1Server().connect(transport);
        return transport.handleRequest(request, options);
      }),
    ),
};

async function connect(app: Hono<DescopeMcpEnv>, sdk: "v1" | "v2", token: string) {
  const init = { requestInit: { headers: { authorization: `Bearer ${token}` } } };
  const fetch = async (url: string | URL | Request, request?: RequestInit) =>
    app.request(url instanceof Request ? url : String(url), request);
  if (sdk === "v2") {
    const client = new ClientV2({ name: "test", version: "1.0.0" });
    await client.connect(new TransportV2(new URL(RESOURCE), { ...init, fetch }));
    return client;
  }
  const client = new ClientV1({ name: "test", version: "1.0.0" });
  await client.connect(new TransportV1(new URL(RESOURCE), { ...init, fetch }));
  return client;
}

describe.each(Object.keys(APPS) as Array<keyof typeof APPS>)("mcpHandler with the %s", (name) => {
  it.each(["v2", "v1"] as const)(
    "serves the official %s client: authInfo, getSession(ctx) and getSession() reach the tool",
    async (sdk) => {
      const client = await connect(APPS[name](), sdk, reader);
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(["whoami", "write_note"]);
      expect(textOf(await client.callTool({ name: "whoami", arguments: {} }))).toEqual({
        client: "client-r",
        user: "U2EmulatorUser0001",
        current: "U2EmulatorUser0001",
      });
      await client.close();
    },
  );

  it.each(["v2", "v1"] as const)(
    "refuses write_note without notes:write before the tool runs (%s client)",
    async (sdk) => {
      ran.length = 0;
      const denied = await connect(APPS[name](), sdk, reader);
      await expect(denied.callTool({ name: "write_note", arguments: {} })).rejects.toThrow(/403|insufficient.scope/i);
      expect(ran).toEqual([]);
      const allowed = await connect(APPS[name](), sdk, writer);
      expect(textOf(await allowed.callTool({ name: "write_note", arguments: {} }))).toEqual({ saved: true });
      expect(ran).toHaveLength(1);
      await Promise.all([denied.close(), allowed.close()]);
    },
  );
});

describe("mcpHandler", () => {
  const rpc = (name: string) =>
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } });
  const init = (token: string, body: string) => ({
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
    },
    body,
  });

  it("dispatches the body the gate judged, even if a later middleware replaces parsedBody", async () => {
    ran.length = 0;
    const app = new Hono<DescopeMcpEnv>().use(gate());
    app.use(
      createMiddleware<DescopeMcpEnv>(async (c, next) => {
        c.set("parsedBody", JSON.parse(rpc("write_note")));
        await next();
      }),
    );
    app.post(
      "/mcp",
      mcpHandler(async (request, options) => {
        const transport = new TransportServerV2({ sessionIdGenerator: undefined, enableJsonResponse: true });
        await v2Server().connect(transport);
        return transport.handleRequest(request, options);
      }),
    );
    const r = await app.request("/mcp", init(reader, rpc("whoami")));
    expect(r.status).toBe(200);
    expect(textOf(((await r.json()) as { result: unknown }).result)).toEqual({
      client: "client-r",
      user: "U2EmulatorUser0001",
      current: "U2EmulatorUser0001",
    });
    expect(ran).toEqual([]);
  });

  it("refuses to serve MCP on a route the gate does not protect (500), but passes OPTIONS when the gate did", async () => {
    const seen: unknown[] = [];
    const handler = mcpHandler((_request, options) => {
      seen.push(options);
      return new Response(null, { status: 204 });
    });
    let error: unknown;
    const open = new Hono().post("/open", handler);
    open.onError((e, c) => {
      error = e;
      return c.text("error", 500);
    });
    expect((await open.request("/open", init(reader, rpc("whoami")))).status).toBe(500);
    expect(String(error)).toMatch(/mcpHandler\(\) is used on a route that the Descope gate does not protect/);
    const quiet = new Hono<DescopeMcpEnv>()
      .use(descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, cors: false }))
      .all("/mcp", handler);
    expect((await quiet.request("/mcp", { method: "OPTIONS" })).status).toBe(204);
    expect(seen).toEqual([{ parsedBody: undefined }]);
  });

  it("takes a transport object (handleRequest) as well as a handler (fetch)", async () => {
    const server = v1Server();
    const transport = new TransportServerV1({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    const app = new Hono<DescopeMcpEnv>().use(gate()).post("/mcp", mcpHandler(transport));
    const r = await app.request("/mcp", init(writer, rpc("whoami")));
    expect(r.status).toBe(200);
    expect(textOf(((await r.json()) as { result: unknown }).result)).toMatchObject({ client: "client-w" });
  });
});
