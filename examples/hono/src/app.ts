// The Hono example app, runtime-neutral: the same module serves on Node (src/server.ts), as a
// Cloudflare Worker (src/worker.ts), and under Bun or Deno (`Bun.serve({ fetch: app.fetch })`).
import {
  type AuthEvent,
  ConnectionDeniedError,
  ConnectionNotFoundError,
  createDescopeMcpAuthFromEnv,
  type DescopeMcpAuth,
  type DescopeMcpAuthOptions,
} from "@descope-mcp/core";
import {
  type DescopeMcpEnv,
  descopeMcpAuth,
  getSession,
  type McpTransportOptions,
  mcpHandler,
} from "@descope-mcp/hono";
import { McpServer, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
import { Hono } from "hono";
import { z } from "zod";
import { type ExampleEnv, POLICY } from "./config.js";

export { type ExampleEnv, POLICY, portFrom } from "./config.js";

export const CALENDAR_APP = "google-calendar";
export const CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.readonly";

const json = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] });
const toolError = (message: string) => ({ content: [{ type: "text" as const, text: message }], isError: true });

/**
 * `AUDIT_LOG=1` prints one line per gate decision (`audit allow 200 ok`, `audit deny 403
 * insufficient_scope tools=write_note`) and per tool run (`tool write_note ran`): what black-box tests
 * observe to prove a refused tool never ran. Never a token.
 */
export function auditLog(env: ExampleEnv): { onEvent?: (event: AuthEvent) => void; toolRan: (name: string) => void } {
  if (env.AUDIT_LOG !== "1") return { toolRan: () => undefined };
  return {
    onEvent: (e) =>
      console.log(`audit ${e.type} ${e.status} ${e.reason}${e.tools ? ` tools=${e.tools.join(",")}` : ""}`),
    toolRan: (name) => console.log(`tool ${name} ran`),
  };
}

/** One MCP server per request (stateless Streamable HTTP), with the contract's four tools. */
export function buildMcpServer(auth: DescopeMcpAuth, toolRan: (name: string) => void = () => undefined): McpServer {
  const server = new McpServer({ name: "descope-mcp-example-hono", version: "0.0.0" });

  server.registerTool(
    "whoami",
    { description: "Who is calling: user, client, scopes, roles, tenants." },
    async (ctx) => {
      const s = getSession(ctx);
      if (!s) return toolError("Not authenticated");
      const { userId, email, clientId, scopes, roles, permissions, tenants } = s;
      return json({ userId, email: email ?? null, clientId: clientId ?? null, scopes, roles, permissions, tenants });
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
        // Asked live every time (cache: false), so a disconnect shows at once.
        await auth.connections.getToken({ appId: CALENDAR_APP, scopes: [CALENDAR_SCOPE], session, cache: false });
        return json({ appId: CALENDAR_APP, connected: true });
      } catch (error) {
        if (error instanceof ConnectionNotFoundError) return json({ appId: CALENDAR_APP, connected: false });
        if (error instanceof ConnectionDeniedError) {
          return toolError(`Access to ${CALENDAR_APP} was denied by Descope policy`);
        }
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

/**
 * The MCP transport for one request: a fresh server on the SDK's Web-standard transport (stateless,
 * JSON answers), given the caller (`authInfo`) and the body the gate judged (`parsedBody`).
 */
export function mcpTransport(
  auth: DescopeMcpAuth,
  toolRan: (name: string) => void = () => undefined,
): (request: Request, options: McpTransportOptions) => Promise<Response> {
  return async (request, options) => {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await buildMcpServer(auth, toolRan).connect(transport);
    return transport.handleRequest(request, options);
  };
}

/** The MCP endpoint itself: stateless Streamable HTTP (JSON answers), one server per request. */
export function mountMcp(
  app: Hono<DescopeMcpEnv>,
  auth: DescopeMcpAuth,
  toolRan: (name: string) => void = () => undefined,
): void {
  const mcpPath = auth.config.mcpPath;
  app.post(mcpPath, mcpHandler(mcpTransport(auth, toolRan)));
  // Stateless server: no standalone SSE stream and no sessions to delete.
  app.all(mcpPath, (c) =>
    c.json(
      {
        jsonrpc: "2.0",
        error: { code: -32000, message: "Method not allowed: this stateless server only accepts POST" },
        id: null,
      },
      405,
      { allow: "POST, OPTIONS" },
    ),
  );
}

/**
 * The Hono app: /health, then metadata + gate from the adapter, then the MCP endpoint. `runtime`
 * adds what the host needs (the Worker passes `waitUntil`).
 */
export function createApp(
  env: ExampleEnv,
  runtime: Partial<Pick<DescopeMcpAuthOptions, "waitUntil">> = {},
): { app: Hono<DescopeMcpEnv>; auth: DescopeMcpAuth } {
  const audit = auditLog(env);
  const auth = createDescopeMcpAuthFromEnv(env, {
    ...POLICY,
    ...runtime,
    ...(audit.onEvent ? { onEvent: audit.onEvent } : {}),
  });
  const app = new Hono<DescopeMcpEnv>();
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.use(descopeMcpAuth(auth));
  mountMcp(app, auth, audit.toolRan);
  return { app, auth };
}
