// MCP SDK servers in a Nest controller behind the guard, on Express and Fastify: v2
// (NodeStreamableHTTPServerTransport, createMcpHandler + toNodeHandler) and v1
// (StreamableHTTPServerTransport). Tools see the caller as the SDKs hand it over (`ctx.http.authInfo`,
// `extra.authInfo`) and through `getSession(ctx)`; the official v2 and v1 clients run the whole OAuth
// flow (401 → discovery → registration → PKCE → token → 403 step-up) against the README's wiring.
import { type DescopeEmulator, HeadlessOAuthClient, startDescopeEmulator } from "@descope-mcp/testing";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedV2,
} from "@modelcontextprotocol/client";
import { NodeStreamableHTTPServerTransport, toNodeHandler } from "@modelcontextprotocol/node";
import { UnauthorizedError as UnauthorizedV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { All, Controller, Module, Req, Res } from "@nestjs/common";
import { APP_GUARD } from "@nestjs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescopeMcpAuthGuard, DescopeMcpAuthModule, getSession, nodeHttp } from "../src/index.js";
import {
  freePort,
  PLATFORMS,
  postMcp,
  type RunningApp,
  rpcResult,
  startNest,
  toolCall,
  toolOutput,
} from "./helpers.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator();
});
afterAll(() => emu.close());

const json = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] });
const calls: string[] = [];
const session = (context: Parameters<typeof getSession>[0]) => getSession(context)?.userId ?? null;

function v2Server() {
  const server = new McpServer({ name: "v2", version: "1.0.0" });
  server.registerTool("whoami", { description: "who is calling" }, async (ctx) =>
    json({
      user: ctx.http?.authInfo?.extra?.userId ?? null,
      scopes: ctx.http?.authInfo?.scopes,
      session: session(ctx),
    }),
  );
  server.registerTool("write_note", { description: "needs notes:write" }, async (ctx) => {
    calls.push("write_note");
    return json({ saved: true, by: session(ctx) });
  });
  return server;
}

function v1Server() {
  const server = new McpServerV1({ name: "v1", version: "1.0.0" });
  server.registerTool("whoami", { description: "who is calling" }, async (extra) =>
    json({ user: extra.authInfo?.extra?.userId ?? null, scopes: extra.authInfo?.scopes, session: session(extra) }),
  );
  server.registerTool("write_note", { description: "needs notes:write" }, async (extra) => {
    calls.push("write_note");
    return json({ saved: true, by: session(extra) });
  });
  return server;
}

const v2Handler = toNodeHandler(createMcpHandler(() => v2Server()));

/** The README's controller: one stateless MCP server per request, on any of the three transports. */
@Controller("mcp")
class McpController {
  @All("v2")
  async v2(@Req() request: unknown, @Res() response: unknown) {
    const { req, res, body } = nodeHttp(request, response);
    const server = v2Server();
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  @All("handler")
  async handler(@Req() request: unknown, @Res() response: unknown) {
    const { req, res, body } = nodeHttp(request, response);
    await v2Handler(req, res, body);
  }

  @All("v1")
  async v1(@Req() request: unknown, @Res() response: unknown) {
    const { req, res, body } = nodeHttp(request, response);
    const server = v1Server();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }
}

describe.each(PLATFORMS)("MCP SDK transports in a Nest controller on %s", (platform) => {
  let server: RunningApp;
  let baseURL: string;
  beforeAll(async () => {
    const port = await freePort();
    baseURL = `http://127.0.0.1:${port}`;
    @Module({
      imports: [
        DescopeMcpAuthModule.forRoot({
          issuerURL: emu.issuerURL,
          baseURL,
          toolScopes: { write_note: ["notes:write"] },
          challengeScopes: ["openid"],
        }),
      ],
      controllers: [McpController],
      providers: [{ provide: APP_GUARD, useClass: DescopeMcpAuthGuard }],
    })
    class AppModule {}
    server = await startNest(platform, { imports: [AppModule] }, { port });
  });
  afterAll(() => server?.close());

  describe.each(["v2", "handler", "v1"])("the %s endpoint", (endpoint) => {
    const url = () => `${server.url}/mcp/${endpoint}`;
    const token = (claims: Record<string, unknown> = {}) => emu.mintToken({ aud: `${baseURL}/mcp`, ...claims });

    it("hands the tool the caller's AuthInfo and session", async () => {
      const r = await postMcp(url(), toolCall("whoami"), await token({ sub: "U-sdk", scope: "openid notes:read" }));
      expect(r.status).toBe(200);
      expect(toolOutput(await rpcResult(r))).toEqual({
        user: "U-sdk",
        scopes: ["openid", "notes:read"],
        session: "U-sdk",
      });
    });

    it("refuses a tool lacking its scope with 403 before the tool runs; with the scope it runs once", async () => {
      const before = calls.length;
      const refused = await postMcp(url(), toolCall("write_note"), await token({ scope: "openid" }));
      expect(refused.status).toBe(403);
      expect(calls.length).toBe(before);
      const ok = await postMcp(url(), toolCall("write_note"), await token({ sub: "U-writer", scope: "notes:write" }));
      expect(toolOutput(await rpcResult(ok))).toEqual({ saved: true, by: "U-writer" });
      expect(calls.length).toBe(before + 1);
    });

    it("isolates 30 concurrent callers: each tool sees its own user", async () => {
      const users = Array.from({ length: 30 }, (_, i) => `U-${endpoint}-${i}`);
      const outputs = await Promise.all(
        users.map(async (sub, i) => {
          const r = await postMcp(url(), toolCall("whoami", i + 1), await token({ sub }));
          return toolOutput(await rpcResult(r)) as { user: string; session: string };
        }),
      );
      expect(outputs.map((o) => [o.user, o.session])).toEqual(users.map((u) => [u, u]));
    });
  });

  const clients = {
    v2: {
      connect: (url: URL, oauth: HeadlessOAuthClient) => ({
        transport: new TransportV2(url, { authProvider: oauth as never }),
        client: new ClientV2({ name: "nest-test", version: "1.0.0" }),
      }),
      finish: (transport: TransportV2, oauth: HeadlessOAuthClient) =>
        transport.finishAuth(oauth.takeCallback().searchParams),
      Unauthorized: UnauthorizedV2,
    },
    v1: {
      connect: (url: URL, oauth: HeadlessOAuthClient) => ({
        transport: new TransportV1(url, { authProvider: oauth as never }),
        client: new ClientV1({ name: "nest-test", version: "1.0.0" }),
      }),
      finish: (transport: TransportV1, oauth: HeadlessOAuthClient) =>
        transport.finishAuth(oauth.takeCallback().searchParams.get("code") as string),
      Unauthorized: UnauthorizedV1,
    },
  };

  it.each([
    ["v2 client, v2 server", "v2", "v2"],
    ["v2 client, createMcpHandler", "v2", "handler"],
    ["v1 client, v1 server", "v1", "v1"],
    ["v1 client, v2 server", "v1", "v2"],
  ] as const)("%s: OAuth, tool call, 403 step-up, tool call", async (_label, major, endpoint) => {
    const sdk = clients[major];
    const url = new URL(`${server.url}/mcp/${endpoint}`);
    const oauth = new HeadlessOAuthClient();
    const first = sdk.connect(url, oauth);
    await expect(first.client.connect(first.transport as never)).rejects.toBeInstanceOf(sdk.Unauthorized);
    await sdk.finish(first.transport as never, oauth);
    const { transport, client } = sdk.connect(url, oauth);
    await client.connect(transport as never);
    const user = "U2EmulatorUser0001";
    const whoami = await client.callTool({ name: "whoami", arguments: {} });
    expect(toolOutput({ result: whoami })).toEqual({ user, scopes: ["openid"], session: user });
    await expect(client.callTool({ name: "write_note", arguments: {} })).rejects.toBeInstanceOf(sdk.Unauthorized);
    expect(oauth.lastRequestedScope?.split(" ").sort()).toEqual(["notes:write", "openid"]);
    await sdk.finish(transport as never, oauth);
    const note = await client.callTool({ name: "write_note", arguments: {} });
    expect(toolOutput({ result: note })).toEqual({ saved: true, by: user });
    expect(oauth.authorizations).toBe(2);
    await client.close();
  });
});
