import { ConnectionDeniedError, ConnectionNotFoundError, type DescopeMcpAuth } from "@descope-mcp/core";
import { getSession } from "@descope-mcp/nest";
import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";

export const CALENDAR_APP = "google-calendar";
export const CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.readonly";

const json = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] });
const toolError = (message: string) => ({ content: [{ type: "text" as const, text: message }], isError: true });

/**
 * The contract's four tools on one MCP server (made per request: stateless Streamable HTTP). Tools
 * read the caller from their context with `getSession(ctx)`: the guard hands the session to the
 * transport (`req.auth`), which hands it to every tool.
 */
export function buildMcpServer(auth: DescopeMcpAuth, toolRan: (name: string) => void): McpServer {
  const server = new McpServer({ name: "descope-mcp-example-nest", version: "0.0.0" });

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
        // Asked of Descope every time (cache: false), so a disconnect shows at once.
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
