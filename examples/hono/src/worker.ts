// The same Hono app as a Cloudflare Worker: configuration comes from the Worker's `env` (vars and
// secrets: DESCOPE_ISSUER_URL, BASE_URL, MCP_PATH, DESCOPE_MANAGEMENT_KEY, …). The tools read the
// caller from their context (getSession(ctx)), so nothing here needs AsyncLocalStorage.
import { waitUntil } from "cloudflare:workers";
import type { ExecutionContext } from "hono";
import { createApp, type ExampleEnv } from "./app.js";

let app: ReturnType<typeof createApp>["app"] | undefined;

export default {
  fetch(request: Request, env: ExampleEnv, ctx: ExecutionContext): Response | Promise<Response> {
    // Built on the first request (a Worker's env is only known inside a handler). `waitUntil` keeps
    // a shared Descope fetch alive when the request that started it is answered first.
    app ??= createApp(env, { waitUntil }).app;
    return app.fetch(request, env, ctx);
  },
};
