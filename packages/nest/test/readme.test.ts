// The README's quick start, as written (only the port is a free one), on both platforms: the official
// v2 client signs in through the whole OAuth flow and calls `whoami`. (The transports, SDK v1 and
// step-up are in sdk.test.ts, the MCP-Nest recipe in rekog.test.ts.)
import { type DescopeEmulator, HeadlessOAuthClient, startDescopeEmulator } from "@descope-mcp/testing";
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from "@modelcontextprotocol/client";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { All, Controller, Module, Req, Res } from "@nestjs/common";
import { APP_GUARD, NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { FastifyAdapter } from "@nestjs/platform-fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DescopeMcpAuthGuard, DescopeMcpAuthModule, getSession, nodeHttp } from "../src/index.js";
import { freePort, PLATFORMS } from "./helpers.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator();
  process.env.DESCOPE_ISSUER_URL = emu.issuerURL;
});
afterAll(() => emu.close());

function buildServer() {
  const server = new McpServer({ name: "notes", version: "1.0.0" });
  server.registerTool("whoami", {}, async (ctx) => ({
    content: [{ type: "text", text: `${getSession(ctx)?.userId}` }],
  }));
  return server;
}

/** The quick start's module, for a given port (the README uses 3000). */
function quickStart(port: number) {
  const mcp = toNodeHandler(createMcpHandler(buildServer)); // buildServer(): your McpServer (SDK v2)
  @Controller("mcp")
  class McpController {
    @All() handle(@Req() request: unknown, @Res() response: unknown) {
      const { req, res, body } = nodeHttp(request, response); // the Node request/response on either platform
      return mcp(req, res, body);
    }
  }
  @Module({
    controllers: [McpController],
    providers: [{ provide: APP_GUARD, useClass: DescopeMcpAuthGuard }],
    imports: [
      DescopeMcpAuthModule.forRoot({
        issuerURL: process.env.DESCOPE_ISSUER_URL as string,
        baseURL: `http://127.0.0.1:${port}`,
      }),
    ],
  })
  class AppModule {}
  return AppModule;
}

it.each(PLATFORMS)("the quick start on %s: the v2 client signs in and calls whoami", async (platform) => {
  const port = await freePort();
  const app = await NestFactory.create(
    quickStart(port),
    platform === "fastify" ? new FastifyAdapter() : new ExpressAdapter(),
    { logger: false },
  );
  await app.listen(port, "127.0.0.1");
  try {
    const oauth = new HeadlessOAuthClient();
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    const first = new StreamableHTTPClientTransport(url, { authProvider: oauth as never });
    await expect(new Client({ name: "readme", version: "1.0.0" }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    await first.finishAuth(oauth.takeCallback().searchParams);
    const client = new Client({ name: "readme", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(url, { authProvider: oauth as never }));
    const result = (await client.callTool({ name: "whoami", arguments: {} })) as { content: { text: string }[] };
    expect(result.content[0]?.text).toBe("U2EmulatorUser0001");
    await client.close();
  } finally {
    await app.close();
  }
});
