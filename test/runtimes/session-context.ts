// The core's Web-standard gate with the `sessionContext` option, under Bun or Deno: the tool reads
// the caller both from its context (`getSession(ctx)`) and from the session context (`getSession()`,
// the runtime's AsyncLocalStorage across the SDK's awaits).
import { createDescopeMcpAuthFromEnv, getSession } from "@descope-mcp/core";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";

declare const Bun: { env: Record<string, string>; serve(options: object): { port: number } } | undefined;
declare const Deno: { env: { toObject(): Record<string, string> }; serve(options: object, handler: unknown): void };

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: "notes", version: "1.0.0" });
  server.registerTool("whoami", {}, async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { content: [{ type: "text", text: `${getSession(ctx)?.userId} ${getSession()?.userId}` }] };
  });
  server.registerTool("write_note", {}, async () => ({ content: [{ type: "text", text: "saved" }] }));
  return server;
});

const { PORT = "3000", ...env } = typeof Bun !== "undefined" ? Bun.env : Deno.env.toObject();
const auth = createDescopeMcpAuthFromEnv(env, { toolScopes: { write_note: ["notes:write"] }, sessionContext: true });
const fetch = auth.protect((request, { authInfo, parsedBody }) => handler.fetch(request, { authInfo, parsedBody }));
if (typeof Bun !== "undefined") Bun.serve({ hostname: "127.0.0.1", port: Number(PORT), fetch });
else Deno.serve({ hostname: "127.0.0.1", port: Number(PORT), onListen: () => undefined }, fetch);
console.log(`session context server listening on ${PORT}`);
