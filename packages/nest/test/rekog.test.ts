// @rekog/mcp-nest 2 behind the guard, on Express and Fastify: its tools run as microservice handlers
// of its own transport, served by a Nest controller (McpHttpControllerFor) the guard protects. Its
// `@ToolScopes` and step-up read the Descope caller from `req.user` and point clients at our metadata
// through its resource-metadata request key; the official v2 client steps up through its 403.
import { type DescopeEmulator, HeadlessOAuthClient, startDescopeEmulator } from "@descope-mcp/testing";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError,
} from "@modelcontextprotocol/client";
import { Controller, type INestApplication, Module } from "@nestjs/common";
import { APP_GUARD } from "@nestjs/core";
import { Ctx, Payload } from "@nestjs/microservices";
import {
  type McpContext,
  McpController,
  McpHttpControllerFor,
  McpStrategy,
  StreamableHttpTransport,
  Tool,
  ToolScopes,
} from "@rekog/mcp-nest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attempt } from "../../../test/support/session-context.js";
import { DescopeMcpAuthGuard, DescopeMcpAuthModule, type DescopeMcpUser, getSession } from "../src/index.js";
import {
  freePort,
  PLATFORMS,
  type Platform,
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
const ran: string[] = [];

@McpController()
class NotesTools {
  @Tool({ name: "whoami", description: "who is calling" })
  whoami(@Payload() _args: unknown, @Ctx() ctx: McpContext) {
    const raw = ctx.getRawRequest<{ user?: DescopeMcpUser; auth?: { extra?: { userId?: string } } }>();
    return json({
      user: raw?.user?.sub ?? null,
      auth: raw?.auth?.extra?.userId ?? null,
      session: raw ? (getSession(raw)?.userId ?? null) : null,
      current: attempt(() => getSession()),
    });
  }

  @Tool({ name: "write_note", description: "needs notes:write" })
  @ToolScopes(["notes:write"])
  writeNote() {
    ran.push("write_note");
    return json({ saved: true });
  }
}

/** An MCP-Nest app: its transport with step-up, its controller at /mcp, our module and guard. */
async function startMcpNest(platform: Platform, extra: Record<string, unknown> = {}) {
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const transport = new StreamableHttpTransport({ stepUpAuthorization: true });
  const strategy = new McpStrategy({ name: "notes", version: "1.0.0", transports: [transport], logging: false });

  @Controller("mcp")
  class McpHttp extends McpHttpControllerFor(transport) {}

  @Module({
    imports: [
      DescopeMcpAuthModule.forRoot({
        issuerURL: emu.issuerURL,
        baseURL,
        challengeScopes: ["openid"],
        sessionContext: true,
        ...extra,
      }),
    ],
    controllers: [NotesTools, McpHttp],
    providers: [{ provide: APP_GUARD, useClass: DescopeMcpAuthGuard }],
  })
  class AppModule {}

  const server = await startNest(
    platform,
    { imports: [AppModule] },
    {
      setup: async (app: INestApplication) => {
        strategy.setHttpAdapter(app.getHttpAdapter());
        app.connectMicroservice({ strategy });
        await app.startAllMicroservices();
      },
      port,
    },
  );
  return { ...server, baseURL, prm: `${baseURL}/.well-known/oauth-protected-resource/mcp` };
}

describe.each(PLATFORMS)("@rekog/mcp-nest behind the guard on %s", (platform) => {
  let server: RunningApp & { baseURL: string; prm: string };
  beforeAll(async () => {
    server = await startMcpNest(platform);
  });
  afterAll(() => server?.close());
  const token = (claims: Record<string, unknown> = {}) => emu.mintToken({ aud: `${server.baseURL}/mcp`, ...claims });

  it("answers a request without a token with the Descope challenge", async () => {
    const r = await postMcp(`${server.url}/mcp`, toolCall("whoami"));
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe(`Bearer scope="openid", resource_metadata="${server.prm}"`);
  });

  it("hands MCP-Nest the Descope caller: its tools see req.user, req.auth, getSession(req) and getSession()", async () => {
    const r = await postMcp(`${server.url}/mcp`, toolCall("whoami"), await token({ sub: "U-rekog" }));
    expect(r.status).toBe(200);
    expect(toolOutput(await rpcResult(r))).toEqual({
      user: "U-rekog",
      auth: "U-rekog",
      session: "U-rekog",
      current: "U-rekog",
    });
  });

  it("lets @ToolScopes read the caller's scopes: tools/list hides what the token cannot call", async () => {
    const list = async (scope: string) => {
      const r = await postMcp(
        `${server.url}/mcp`,
        { jsonrpc: "2.0", id: 1, method: "tools/list" },
        await token({ scope }),
      );
      return ((await rpcResult(r)) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name).sort();
    };
    expect(await list("openid")).toEqual(["whoami"]);
    expect(await list("openid notes:write")).toEqual(["whoami", "write_note"]);
  });

  it("lets MCP-Nest's step-up 403 point at this server's metadata; with the scope the tool runs", async () => {
    const before = ran.length;
    const refused = await postMcp(`${server.url}/mcp`, toolCall("write_note"), await token({ scope: "openid" }));
    expect(refused.status).toBe(403);
    const challenge = refused.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/^Bearer error="insufficient_scope"/);
    expect(challenge).toContain('scope="notes:write"');
    expect(challenge).toContain(`resource_metadata="${server.prm}"`);
    expect(ran.length).toBe(before);
    const ok = await postMcp(`${server.url}/mcp`, toolCall("write_note"), await token({ scope: "openid notes:write" }));
    expect(toolOutput(await rpcResult(ok))).toEqual({ saved: true });
    expect(ran.length).toBe(before + 1);
  });

  it("runs the official v2 client's OAuth flow, stepping up through MCP-Nest's 403", async () => {
    const oauth = new HeadlessOAuthClient();
    const url = new URL(`${server.url}/mcp`);
    const connect = () => ({
      transport: new TransportV2(url, { authProvider: oauth as never }),
      client: new ClientV2({ name: "rekog-test", version: "1.0.0" }),
    });
    const first = connect();
    await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
    await first.transport.finishAuth(oauth.takeCallback().searchParams);
    const { transport, client } = connect();
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["whoami"]);
    const user = "U2EmulatorUser0001";
    expect(toolOutput({ result: await client.callTool({ name: "whoami", arguments: {} }) })).toEqual({
      user,
      auth: user,
      session: user,
      current: user,
    });
    await expect(client.callTool({ name: "write_note", arguments: {} })).rejects.toBeInstanceOf(UnauthorizedError);
    expect(oauth.lastRequestedScope?.split(" ")).toContain("notes:write");
    await transport.finishAuth(oauth.takeCallback().searchParams);
    expect(toolOutput({ result: await client.callTool({ name: "write_note", arguments: {} }) })).toEqual({
      saved: true,
    });
    expect(oauth.authorizations).toBe(2);
    await client.close();
  });

  it("with the core's toolScopes as well, the guard refuses first (before MCP-Nest reads the body)", async () => {
    const both = await startMcpNest(platform, { toolScopes: { write_note: ["notes:write"] } });
    try {
      const before = ran.length;
      const r = await postMcp(
        `${both.url}/mcp`,
        toolCall("write_note"),
        await emu.mintToken({ aud: `${both.baseURL}/mcp`, scope: "openid" }),
      );
      expect(r.status).toBe(403);
      expect(r.headers.get("www-authenticate")).toBe(
        `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="notes:write openid", resource_metadata="${both.prm}"`,
      );
      expect(ran.length).toBe(before);
    } finally {
      await both.close();
    }
  });
});
