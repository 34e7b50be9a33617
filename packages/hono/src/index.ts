import {
  ConfigurationError,
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  type DescopeMcpAuthOptions,
  type DescopeSession,
  getSession,
  type McpAuthInfo,
  requireSession,
  type SessionSource,
} from "@descope-mcp/core";
import type { Context, Handler, MiddlewareHandler } from "hono";

export type {
  AuthEvent,
  ConnectionToken,
  DescopeMcpErrorCode,
  DescopeUser,
  GetTenantConnectionTokenParams,
  GetUserConnectionTokenParams,
  TenantAccess,
  Timeouts,
} from "@descope-mcp/core";
// What users of this adapter need from the core, so they never have to install it themselves.
export {
  ConfigurationError,
  ConnectionDeniedError,
  ConnectionNotFoundError,
  createDescopeMcpAuth,
  createDescopeMcpAuthFromEnv,
  DescopeMcpError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isDescopeMcpError,
  MethodNotAllowedError,
  NoSessionError,
  PayloadTooLargeError,
  TokenExpiredError,
  UnauthorizedError,
  UpstreamError,
  UpstreamUnavailableError,
  UserNotFoundError,
} from "@descope-mcp/core";
export type { DescopeMcpAuth, DescopeMcpAuthOptions, DescopeSession, McpAuthInfo, SessionSource };

/** The context variables `descopeMcpAuth()` sets on an authenticated request. */
export interface DescopeMcpVariables {
  /** The MCP SDK `AuthInfo` of the caller (what `mcpHandler` gives the transport as `authInfo`). */
  auth: McpAuthInfo;
  /** The caller's Descope session (user, scopes, roles, tenants, claims, …). */
  session: DescopeSession;
  /**
   * The JSON-RPC body the gate read and judged (set when per-tool scopes made it read one). The same
   * variable `@modelcontextprotocol/hono`'s JSON middleware reads and sets.
   */
  parsedBody: unknown;
}

/** A Hono `Env` with the variables the middleware sets: `new Hono<DescopeMcpEnv>()`. */
export type DescopeMcpEnv = {
  /** What `c.get(…)` returns for the gate's variables. */
  Variables: DescopeMcpVariables;
};

/** The middleware returned by `descopeMcpAuth`: mount it at the app root with `app.use(...)`. */
export interface DescopeMcpMiddleware extends MiddlewareHandler<DescopeMcpEnv> {
  /** The core engine (verifyToken, connections, management, config, …). */
  readonly auth: DescopeMcpAuth;
  /** Route middleware requiring scopes of the authenticated caller (403 with a step-up challenge otherwise). */
  requireScopes(...scopes: string[]): MiddlewareHandler<DescopeMcpEnv>;
}

/** What the gate decided, kept off the public variables (which later middleware may overwrite). */
interface GateState {
  engine: DescopeMcpAuth;
  authInfo: McpAuthInfo;
  session: DescopeSession;
  /** The body the gate judged, or `undefined` when it did not need to read one. */
  body: unknown;
}

const STATE = Symbol.for("descope-mcp.hono.gate");
type Tagged = { [STATE]?: GateState };
const stateOf = (c: Context): GateState | undefined => (c as unknown as Tagged)[STATE];

function isEngine(value: unknown): value is DescopeMcpAuth {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as DescopeMcpAuth).handle === "function" &&
    typeof (value as DescopeMcpAuth).gate === "function"
  );
}

/**
 * Descope authentication for an MCP server on Hono — on Node, Cloudflare Workers, Bun, Deno or any
 * other Web-standard host. Mount it at the app root, before your MCP route: it serves the
 * well-known metadata, answers CORS preflight and gates `mcpPath` (every spelling of it) through the
 * core's Web-standard gate (`auth.handle`).
 *
 * ```ts
 * const app = new Hono<DescopeMcpEnv>();
 * app.use(descopeMcpAuth({ issuerURL, baseURL, toolScopes: { write_note: ["notes:write"] } }));
 * app.all("/mcp", mcpHandler(createMcpHandler(buildServer)));
 * ```
 */
export function descopeMcpAuth(optionsOrAuth: DescopeMcpAuthOptions | DescopeMcpAuth): DescopeMcpMiddleware {
  const engine = isEngine(optionsOrAuth) ? optionsOrAuth : createDescopeMcpAuth(optionsOrAuth);

  const middleware: MiddlewareHandler<DescopeMcpEnv> = async (c, next) => {
    const response = await engine.handle(
      c.req.raw,
      async (_request, { authInfo, session, parsedBody }) => {
        (c as unknown as Tagged)[STATE] = { engine, authInfo, session, body: parsedBody };
        c.set("auth", authInfo);
        c.set("session", session);
        if (parsedBody !== undefined) {
          c.set("parsedBody", parsedBody);
          // The stream is consumed: `c.req.json()` (and `.text()`) answer from the body the gate judged.
          (c.req.bodyCache as Record<string, unknown>).json = Promise.resolve(parsedBody);
        }
        // With the `sessionContext` option, the core runs this handler with the session current.
        await next();
        return c.res;
      },
      // Only used when an earlier middleware consumed the stream (else the gate reads the bytes).
      { parsedBody: c.get("parsedBody") },
    );
    if (response === undefined) return next(); // not the gate's path, or OPTIONS with cors: false
    if (!c.finalized) return response; // metadata, preflight or a refusal: the answer
    if (response !== c.res) c.res = response; // the app's answer, copied to add the CORS headers
  };

  return Object.assign(middleware, {
    auth: engine,
    requireScopes: (...scopes: string[]) => requireScopesWith(engine, scopes),
  });
}

function requireScopesWith(fixed: DescopeMcpAuth | undefined, scopes: string[]): MiddlewareHandler<DescopeMcpEnv> {
  return async (c, next) => {
    const state = stateOf(c);
    if (!state)
      throw new ConfigurationError("requireScopes() is used on a route that the Descope gate does not protect");
    const engine = fixed ?? state.engine;
    try {
      engine.requireScopes(state.session, scopes);
    } catch (error) {
      return engine.errorResponse(error);
    }
    await next();
  };
}

/**
 * Route middleware: the authenticated caller must hold `scopes` (hierarchy aware: `notes:*` covers
 * `notes:write`), else `403 insufficient_scope` with a step-up challenge. Uses the engine of the gate
 * that authenticated the request.
 */
export function requireScopes(...scopes: string[]): MiddlewareHandler<DescopeMcpEnv> {
  return requireScopesWith(undefined, scopes);
}

/** What the MCP SDK's Web-standard transports take besides the `Request`. */
export interface McpTransportOptions {
  /** The caller, as the MCP SDK `AuthInfo` (tools see it as `ctx.http.authInfo` / `extra.authInfo`). */
  authInfo?: McpAuthInfo;
  /** The already-parsed JSON-RPC body: the transport dispatches it and does not read the request again. */
  parsedBody?: unknown;
}

/**
 * An MCP SDK Web-standard handler: v2's `createMcpHandler(...)` (anything with `fetch(request,
 * options)`), a transport with `handleRequest(request, options)` (v1 or v2
 * `WebStandardStreamableHTTPServerTransport`), or a function doing either.
 */
export type WebStandardMcpHandler =
  | {
      /** v2's `createMcpHandler(...)`: answers one request. */
      fetch(request: Request, options?: McpTransportOptions): Promise<Response>;
    }
  | {
      /** A Web-standard transport (v1 or v2): answers one request. */
      handleRequest(request: Request, options?: McpTransportOptions): Promise<Response>;
    }
  | ((request: Request, options: McpTransportOptions) => Response | Promise<Response>);

/**
 * The Hono handler for the MCP route: hands the request to `handler` with the caller's `authInfo`
 * and the body the gate judged (`parsedBody`), so the transport dispatches exactly what was
 * authorized and never reads the request stream again.
 *
 * ```ts
 * app.all("/mcp", mcpHandler(createMcpHandler(buildServer))); // SDK v2
 * app.post("/mcp", mcpHandler(async (request, options) => { // SDK v1, stateless
 *   const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
 *   await buildServer().connect(transport);
 *   return transport.handleRequest(request, options);
 * }));
 * ```
 *
 * On a route the gate does not protect it throws a `ConfigurationError` (a 500) instead of serving
 * MCP unauthenticated; only an `OPTIONS` request the gate let through (`cors: false`) is passed on
 * without a caller.
 */
export function mcpHandler(handler: WebStandardMcpHandler): Handler<DescopeMcpEnv> {
  const serve: (request: Request, options: McpTransportOptions) => Response | Promise<Response> =
    typeof handler === "function"
      ? handler
      : "fetch" in handler
        ? (request, options) => handler.fetch(request, options)
        : (request, options) => handler.handleRequest(request, options);
  return async (c) => {
    const state = stateOf(c);
    if (state) return serve(c.req.raw, { authInfo: state.authInfo, parsedBody: state.body ?? c.get("parsedBody") });
    if (c.req.method === "OPTIONS") return serve(c.req.raw, { parsedBody: c.get("parsedBody") });
    throw new ConfigurationError("mcpHandler() is used on a route that the Descope gate does not protect");
  };
}

// ---- the caller, from a tool or anywhere below the gate (the core's, shared by every adapter) ---------

/**
 * The caller: `getSession(ctx)` in an MCP tool (its context: `ctx` in SDK v2, `extra` in v1) reads
 * the session the gate handed to the transport, on every runtime; `getSession()` without an argument
 * finds the current request's session anywhere below the gate when the engine's `sessionContext`
 * option is on (AsyncLocalStorage: Node, Bun, Deno, Vercel Edge, Cloudflare Workers with
 * `nodejs_compat`), else throws a `ConfigurationError` saying so. `requireSession()` throws
 * `NoSessionError` instead of returning `undefined`. In Hono handlers, `c.get("session")`.
 */
export { getSession, requireSession };
