import type { DescopeMcpAuth } from "@descope-mcp/core";
import { runWithSession } from "@descope-mcp/core/node";
import { type DescopeConfig, type DescopeProvider, providerFrom } from "./provider.js";
import { grant, remember, wrapping } from "./registry.js";
import type { WorkerModule } from "./xmcp.js";

/** The request xmcp gets: the same one, or (when the gate read the body) one carrying exactly the body it judged. */
function forwarded(request: Request, parsedBody: unknown): Request {
  if (parsedBody === undefined) return request;
  const headers = new Headers(request.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  headers.delete("transfer-encoding");
  headers.set("content-type", "application/json");
  return new Request(request.url, {
    method: request.method,
    headers,
    body: JSON.stringify(parsedBody),
    signal: request.signal,
  });
}

/**
 * Serves an xmcp Cloudflare worker (`xmcp build --cf` writes it to `worker.js`) behind Descope.
 * xmcp hands middleware only its exact MCP endpoint, so this wrapper does the rest: it answers the
 * protected-resource and authorization-server metadata and CORS preflight, gates every spelling
 * of the endpoint with the core's Web-standard gate, and hands xmcp the request with exactly the
 * body it judged; the provider's middleware (inside xmcp's worker) then passes the caller to the
 * tools (`extra.authInfo`, `getSession()`). Everything else goes to xmcp unchanged.
 *
 * This module is bundled outside xmcp's build, so it cannot read xmcp's endpoint: set `mcpPath`
 * (or `MCP_PATH`) in the provider's options; the provider inside xmcp's build checks that it matches.
 *
 * ```ts
 * // the Worker's main module
 * import xmcp from "../worker.js";
 * import descope from "./middleware";
 * export default descopeWorker(xmcp, descope);
 * ```
 */
export function descopeWorker<Env = unknown, Ctx = unknown>(
  worker: WorkerModule<Env, Ctx>,
  provider: DescopeProvider | DescopeConfig | DescopeMcpAuth,
): WorkerModule<Env, Ctx> & {
  /** The core engine (verifyToken, connections, management, config, …). */
  readonly auth: DescopeMcpAuth;
} {
  const engine = providerFrom(provider).auth;
  wrapping(engine.config.mcpPath);
  return {
    auth: engine,
    async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
      const answer = await engine.handle(request, (gated, { session, parsedBody }) => {
        const next = forwarded(gated, parsedBody);
        grant(next, session);
        remember(session, engine);
        return runWithSession(session, () => worker.fetch(next, env, ctx));
      });
      return answer ?? worker.fetch(request, env, ctx);
    },
  };
}
