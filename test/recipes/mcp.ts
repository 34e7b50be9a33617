import type { McpRequestHandler } from "@descope-mcp/core";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: "notes", version: "1.0.0" });
  server.registerTool("whoami", {}, async (ctx) => ({
    content: [{ type: "text", text: `${ctx.http?.authInfo?.extra?.userId}` }],
  }));
  server.registerTool("write_note", {}, async () => ({ content: [{ type: "text", text: "saved" }] }));
  return server;
});

// The gate hands over the caller and the body it judged; the SDK dispatches exactly that body.
export const mcp: McpRequestHandler = (request, { authInfo, parsedBody }) =>
  handler.fetch(request, { authInfo, parsedBody });
