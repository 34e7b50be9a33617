import {
  type AuthEvent,
  ConnectionDeniedError,
  ConnectionNotFoundError,
  createDescopeMcpAuthFromEnv,
  type DescopeMcpAuth,
} from "@descope-mcp/core";
import { descopeMcpAuth, getSession } from "@descope-mcp/express";
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import { McpServer } from "@modelcontextprotocol/server";
import express from "express";
import { z } from "zod";

export const CALENDAR_APP = "google-calendar";
export const CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.readonly";

/** The example's policy: `write_note` needs `notes:write`; clients start with the basic scopes. */
export const POLICY = {
  toolScopes: { write_note: ["notes:write"] },
  challengeScopes: ["openid", "outbound.token.fetch"],
  scopesSupported: ["openid", "outbound.token.fetch", "notes:write"],
  resourceName: "descope-mcp Express example",
};

const json = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] });

/**
 * `AUDIT_LOG=1` prints one line per gate decision (`audit allow 200 ok`, `audit deny 403
 * insufficient_scope`) and per tool run (`tool write_note ran`): what black-box tests observe to prove
 * a refused tool never ran. Never a token.
 */
export function auditLog(env: Record<string, string | undefined>): {
  onEvent?: (event: AuthEvent) => void;
  toolRan: (name: string) => void;
} {
  if (env.AUDIT_LOG !== "1") return { toolRan: () => undefined };
  return {
    onEvent: (e) =>
      console.log(`audit ${e.type} ${e.status} ${e.reason}${e.tools ? ` tools=${e.tools.join(",")}` : ""}`),
    toolRan: (name) => console.log(`tool ${name} ran`),
  };
}
const toolError = (message: string) => ({ content: [{ type: "text" as const, text: message }], isError: true });

/** One MCP server per request (stateless Streamable HTTP), with the contract's four tools. */
export function buildMcpServer(auth: DescopeMcpAuth, toolRan: (name: string) => void = () => undefined): McpServer {
  const server = new McpServer({ name: "descope-mcp-example-express", version: "0.0.0" });

  server.registerTool(
    "whoami",
    { description: "Who is calling: user, client, scopes, roles, tenants." },
    async (ctx) => {
      const s = getSession(ctx);
      if (!s) return toolError("Not authenticated");
      return json({
        userId: s.userId,
        email: s.email ?? null,
        clientId: s.clientId ?? null,
        scopes: s.scopes,
        roles: s.roles,
        permissions: s.permissions,
        tenants: s.tenants,
      });
    },
  );

  server.registerTool(
    "write_note",
    { description: "Save a note (needs the notes:write scope).", inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => {
      toolRan("write_note");
      return json({ saved: true, length: text.length });
    },
  );

  server.registerTool(
    "connection_status",
    { description: "Whether the caller has connected Google Calendar (never returns the token)." },
    async (ctx) => {
      toolRan("connection_status");
      const session = getSession(ctx);
      if (!session) return toolError("Not authenticated");
      try {
        // A status check asks Descope every time (cache: false): a disconnect shows at once.
        await auth.connections.getToken({ appId: CALENDAR_APP, scopes: [CALENDAR_SCOPE], session, cache: false });
        return json({ appId: CALENDAR_APP, connected: true });
      } catch (error) {
        if (error instanceof ConnectionNotFoundError) return json({ appId: CALENDAR_APP, connected: false });
        if (error instanceof ConnectionDeniedError)
          return toolError(`Access to ${CALENDAR_APP} was denied by Descope policy`);
        return toolError(`Could not check the ${CALENDAR_APP} connection: ${(error as Error).message}`);
      }
    },
  );

  server.registerTool(
    "profile",
    { description: "The caller's Descope profile (needs DESCOPE_MANAGEMENT_KEY)." },
    async (ctx) => {
      toolRan("profile");
      const session = getSession(ctx);
      if (!session) return toolError("Not authenticated");
      if (!auth.config.managementKey) {
        return toolError("The profile tool needs DESCOPE_MANAGEMENT_KEY to be configured on this server");
      }
      try {
        const user = await auth.management.getUser(session.userId);
        return json({ userId: user.userId, email: user.email ?? null, name: user.name ?? null });
      } catch (error) {
        return toolError(`Could not load the profile: ${(error as Error).message}`);
      }
    },
  );

  return server;
}

/** The Express app: metadata + gate from the adapter, the MCP endpoint, and /health. */
export function createApp(env: Record<string, string | undefined> = process.env): {
  app: express.Express;
  auth: DescopeMcpAuth;
} {
  const audit = auditLog(env);
  const auth = createDescopeMcpAuthFromEnv(env, audit.onEvent ? { ...POLICY, onEvent: audit.onEvent } : POLICY);
  const app = express();
  app.get("/health", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.use(descopeMcpAuth(auth));
  mountMcp(app, auth, audit.toolRan);
  return { app, auth };
}

/** The MCP endpoint itself (stateless Streamable HTTP, one server per request). */
export function mountMcp(
  app: express.Express,
  auth: DescopeMcpAuth,
  toolRan: (name: string) => void = () => undefined,
): void {
  const mcpPath = auth.config.mcpPath;
  app.post(mcpPath, express.json({ limit: "4mb" }), async (req, res) => {
    const server = buildMcpServer(auth, toolRan);
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  // Stateless server: no standalone SSE stream and no sessions to delete.
  app.all(mcpPath, (_req, res) => {
    res
      .status(405)
      .set("allow", "POST, OPTIONS")
      .json({
        jsonrpc: "2.0",
        error: { code: -32000, message: "Method not allowed: this stateless server only accepts POST" },
        id: null,
      });
  });
}
