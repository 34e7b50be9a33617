// The README's quick starts (SDK v2 and v1 on @hono/node-server), wired as documented, driven by the
// official MCP clients through the whole OAuth flow against the emulator: 401 → discovery →
// registration → authorize (PKCE) → token → tool call → 403 insufficient_scope → step-up → tool call.
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type DescopeEmulator, HeadlessOAuthClient, startDescopeEmulator } from "@descope-mcp/testing";
import { serve } from "@hono/node-server";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedV2,
} from "@modelcontextprotocol/client";
import { UnauthorizedError as UnauthorizedV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descopeMcpAuth, getSession, mcpHandler } from "../src/index.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator();
});
afterAll(() => emu.close());

const text = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] });
const textOf = (result: unknown) =>
  JSON.parse((result as { content: { type: string; text: string }[] }).content[0]?.text as string) as unknown;

interface Running {
  url: string;
  close(): Promise<void>;
}

/** Serves `app` (built once the URL is known) like the README's `serve(...)` line, on a random port. */
async function listen(build: (baseURL: string) => Hono): Promise<Running> {
  let app: Hono | undefined;
  const server = serve({ fetch: (request) => (app as Hono).fetch(request), hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app = build(url);
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const policy = { toolScopes: { write_note: ["notes:write"] }, challengeScopes: ["openid"] };

/** README "Quick start", plus a `write_note` tool that needs `notes:write`. */
const quickStartV2 = () =>
  listen((baseURL) => {
    const mcp = createMcpHandler(() => {
      const server = new McpServer({ name: "notes", version: "1.0.0" });
      server.registerTool("whoami", {}, async (ctx) =>
        text({ user: ctx.http?.authInfo?.extra?.userId, session: getSession(ctx)?.userId }),
      );
      server.registerTool("write_note", {}, async (ctx) => text({ saved: true, by: getSession(ctx)?.userId }));
      return server;
    });
    const app = new Hono();
    app.use(descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL, ...policy }));
    app.all("/mcp", mcpHandler(mcp));
    return app;
  });

/** README "MCP SDK v1", plus the same `write_note` tool. */
const quickStartV1 = () =>
  listen((baseURL) => {
    const app = new Hono();
    app.use(descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL, ...policy }));
    app.post(
      "/mcp",
      mcpHandler(async (request, options) => {
        const server = new McpServerV1({ name: "notes", version: "1.0.0" });
        server.registerTool("whoami", {}, async (extra) =>
          text({ user: extra.authInfo?.extra?.userId, session: getSession(extra)?.userId }),
        );
        server.registerTool("write_note", {}, async (extra) => text({ saved: true, by: getSession(extra)?.userId }));
        const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        await server.connect(transport);
        return transport.handleRequest(request, options);
      }),
    );
    return app;
  });

const clients = {
  v2: {
    connect: (url: URL, oauth: HeadlessOAuthClient) => ({
      transport: new TransportV2(url, { authProvider: oauth as never }),
      client: new ClientV2({ name: "readme-test", version: "1.0.0" }),
    }),
    finish: (transport: TransportV2, oauth: HeadlessOAuthClient) =>
      transport.finishAuth(oauth.takeCallback().searchParams),
    Unauthorized: UnauthorizedV2,
  },
  v1: {
    connect: (url: URL, oauth: HeadlessOAuthClient) => ({
      transport: new TransportV1(url, { authProvider: oauth as never }),
      client: new ClientV1({ name: "readme-test", version: "1.0.0" }),
    }),
    finish: (transport: TransportV1, oauth: HeadlessOAuthClient) =>
      transport.finishAuth(oauth.takeCallback().searchParams.get("code") as string),
    Unauthorized: UnauthorizedV1,
  },
};

describe("README quick starts on @hono/node-server", () => {
  it.each([
    ["SDK v2 server, v2 client", quickStartV2, "v2"],
    ["SDK v2 server, v1 client", quickStartV2, "v1"],
    ["SDK v1 server, v1 client", quickStartV1, "v1"],
    ["SDK v1 server, v2 client", quickStartV1, "v2"],
  ] as const)("%s: OAuth, tool call, 403 step-up, tool call", async (_label, start, major) => {
    const server = await start();
    const sdk = clients[major];
    const url = new URL(`${server.url}/mcp`);
    const oauth = new HeadlessOAuthClient();
    try {
      const first = sdk.connect(url, oauth);
      await expect(first.client.connect(first.transport as never)).rejects.toBeInstanceOf(sdk.Unauthorized);
      await sdk.finish(first.transport as never, oauth);
      const { transport, client } = sdk.connect(url, oauth);
      await client.connect(transport as never);

      const user = "U2EmulatorUser0001";
      expect(textOf(await client.callTool({ name: "whoami", arguments: {} }))).toEqual({ user, session: user });
      expect(oauth.authorizations).toBe(1);

      await expect(client.callTool({ name: "write_note", arguments: {} })).rejects.toBeInstanceOf(sdk.Unauthorized);
      expect(oauth.lastRequestedScope?.split(" ").sort()).toEqual(["notes:write", "openid"]);
      await sdk.finish(transport as never, oauth);
      expect(textOf(await client.callTool({ name: "write_note", arguments: {} }))).toEqual({ saved: true, by: user });
      expect(oauth.authorizations).toBe(2);
      await client.close();
    } finally {
      await server.close();
    }
  });
});

describe("README recipes", () => {
  const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
  it.each(["worker.ts", "notes.ts"])("shows test/recipes/%s verbatim (tested in worker.workerd.test.ts)", (file) => {
    const code = readFileSync(join(import.meta.dirname, "recipes", file), "utf8").trimEnd();
    expect(readme).toContain(`\n${code}\n\`\`\``);
  });
});
