// The README's quick starts (SDK v2 and v1), wired as documented, driven by the official MCP
// clients through the whole OAuth flow against the emulator: 401 → discovery → registration →
// authorize (PKCE) → token → tool call → 403 insufficient_scope → step-up → tool call.
import { type DescopeEmulator, HeadlessOAuthClient, startDescopeEmulator } from "@descope-mcp/testing";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedV2,
} from "@modelcontextprotocol/client";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { UnauthorizedError as UnauthorizedV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FLAVORS, type Flavor, listen, type Running } from "./helpers.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator();
});
afterAll(() => emu.close());

const text = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] });
const textOf = (result: unknown) =>
  JSON.parse((result as { content: { type: string; text: string }[] }).content[0]?.text as string) as unknown;

/** README "Quick start (MCP SDK v2)", plus a `write_note` tool that needs `notes:write`. */
async function quickStartV2({ express, adapter }: Flavor): Promise<Running> {
  const app = express();
  const running = await listen(app);
  app.use(
    adapter.descopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: running.url,
      toolScopes: { write_note: ["notes:write"] },
      challengeScopes: ["openid"],
    }),
  );
  const mcp = toNodeHandler(
    createMcpHandler(() => {
      const server = new McpServer({ name: "notes", version: "1.0.0" });
      server.registerTool("whoami", {}, async (ctx) =>
        text({ user: ctx.http?.authInfo?.extra?.userId, session: adapter.getSession(ctx)?.userId }),
      );
      server.registerTool("write_note", {}, async (ctx) => text({ saved: true, by: adapter.getSession(ctx)?.userId }));
      return server;
    }),
  );
  app.all("/mcp", express.json(), (req, res) => mcp(req, res, req.body));
  return running;
}

/** README "MCP SDK v1", plus the same `write_note` tool. */
async function quickStartV1({ express, adapter }: Flavor): Promise<Running> {
  const app = express();
  const running = await listen(app);
  app.use(
    adapter.descopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: running.url,
      toolScopes: { write_note: ["notes:write"] },
      challengeScopes: ["openid"],
    }),
  );
  app.post("/mcp", express.json(), async (req, res) => {
    const server = new McpServerV1({ name: "notes", version: "1.0.0" });
    server.registerTool("whoami", {}, async (extra) =>
      text({ user: extra.authInfo?.extra?.userId, session: adapter.getSession(extra)?.userId }),
    );
    server.registerTool("write_note", {}, async (extra) =>
      text({ saved: true, by: adapter.getSession(extra)?.userId }),
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  app.all("/mcp", (_req, res) => {
    res.status(405).set("allow", "POST").end();
  });
  return running;
}

const clients = {
  v2: {
    connect: (url: URL, oauth: HeadlessOAuthClient) => {
      const transport = new TransportV2(url, { authProvider: oauth });
      return {
        transport,
        client: new ClientV2({ name: "readme-test", version: "1.0.0" }),
        finish: () => transport.finishAuth(oauth.takeCallback().searchParams),
      };
    },
    Unauthorized: UnauthorizedV2,
  },
  v1: {
    connect: (url: URL, oauth: HeadlessOAuthClient) => {
      const transport = new TransportV1(url, { authProvider: oauth });
      return {
        transport,
        client: new ClientV1({ name: "readme-test", version: "1.0.0" }),
        finish: () => transport.finishAuth(oauth.takeCallback().searchParams.get("code") as string),
      };
    },
    Unauthorized: UnauthorizedV1,
  },
};

describe.each(FLAVORS)("README quick starts on $name", (flavor) => {
  it.each([
    ["SDK v2 server, v2 client", quickStartV2, "v2"],
    ["SDK v1 server, v1 client", quickStartV1, "v1"],
    ["SDK v2 server, v1 client", quickStartV2, "v1"],
  ] as const)("%s: OAuth, tool call, 403 step-up, tool call", async (_label, start, major) => {
    const server = await start(flavor);
    const sdk = clients[major];
    const url = new URL(`${server.url}/mcp`);
    const oauth = new HeadlessOAuthClient();
    try {
      // First connect: 401 → discovery → registration → authorization redirect.
      const first = sdk.connect(url, oauth);
      await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(sdk.Unauthorized);
      await first.finish();
      const { transport, client, finish } = sdk.connect(url, oauth);
      await client.connect(transport);

      const user = "U2EmulatorUser0001";
      expect(textOf(await client.callTool({ name: "whoami", arguments: {} }))).toEqual({ user, session: user });
      expect(oauth.authorizations).toBe(1);

      // write_note needs notes:write: 403 insufficient_scope → the client re-authorizes.
      await expect(client.callTool({ name: "write_note", arguments: {} })).rejects.toBeInstanceOf(sdk.Unauthorized);
      expect(oauth.lastRequestedScope?.split(" ").sort()).toEqual(["notes:write", "openid"]);
      await finish();
      expect(textOf(await client.callTool({ name: "write_note", arguments: {} }))).toEqual({ saved: true, by: user });
      expect(oauth.authorizations).toBe(2);
      await client.close();
    } finally {
      await server.close();
    }
  });
});
