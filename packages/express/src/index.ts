import {
  ConfigurationError,
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  type DescopeMcpAuthOptions,
  type DescopeSession,
  isUnderMcpPath,
  type McpAuthInfo,
} from "@descope-mcp/core";
import {
  gateInputFromNode,
  getSession,
  handOverBody,
  requireSession,
  type SessionSource,
  writeResult,
} from "@descope-mcp/core/node";
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from "express";

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
export { getSession, requireSession };

declare global {
  namespace Express {
    interface Request {
      /** The MCP SDK `AuthInfo`, set by the Descope gate (read by SDK v1 and v2 transports). */
      auth?: McpAuthInfo;
    }
  }
}

const ENGINE = Symbol.for("descope-mcp.engine");
const SESSION = Symbol.for("descope-mcp.session");

type Tagged = Request & { [ENGINE]?: DescopeMcpAuth; [SESSION]?: DescopeSession };

/**
 * Adapter options of {@link descopeMcpAuth}: shorthands for the core's `cors` and `bodyLimit`
 * options, applied when the engine is made from options. Given together with a ready engine, they
 * throw a {@link ConfigurationError} (set them on `createDescopeMcpAuth` instead).
 */
export interface DescopeMcpExpressOptions {
  /** Answer CORS preflights on the MCP path and expose `WWW-Authenticate` (default: the core's `cors` option, true). */
  cors?: boolean;
  /**
   * Most bytes the gate reads of a body: a number of bytes or a size such as `"4mb"` (default: the
   * core's `bodyLimit` option, 4 MiB).
   */
  bodyLimit?: string | number;
}

/** The router returned by `descopeMcpAuth`: mount it at the app root. */
export interface DescopeMcpRouter extends Router {
  /** The core engine (verifyToken, connections, management, …). */
  readonly auth: DescopeMcpAuth;
  /**
   * Route middleware requiring scopes of the authenticated caller (hierarchy aware; 403
   * `insufficient_scope` with a step-up challenge otherwise). On a route the gate does not protect
   * it calls `next` with a {@link ConfigurationError}.
   */
  requireScopes(...scopes: string[]): RequestHandler;
}

function isEngine(value: unknown): value is DescopeMcpAuth {
  return typeof value === "object" && value !== null && typeof (value as DescopeMcpAuth).authenticate === "function";
}

/** The engine to use: the one given, or one made from the options (the adapter options are the core's `cors` and `bodyLimit`). */
function engineFor(optionsOrAuth: DescopeMcpAuthOptions | DescopeMcpAuth, adapterOptions: DescopeMcpExpressOptions) {
  const { cors, bodyLimit } = adapterOptions;
  if (!isEngine(optionsOrAuth)) {
    return createDescopeMcpAuth({
      ...optionsOrAuth,
      ...(cors === undefined ? {} : { cors }),
      ...(bodyLimit === undefined ? {} : { bodyLimit }),
    });
  }
  if (cors !== undefined || bodyLimit !== undefined) {
    throw new ConfigurationError(
      "descopeMcpAuth(engine, { cors, bodyLimit }): set cors and bodyLimit on the engine (createDescopeMcpAuth) instead",
      cors !== undefined ? "cors" : "bodyLimit",
    );
  }
  return optionsOrAuth;
}

async function writeWebResponse(res: Response, response: globalThis.Response): Promise<void> {
  res.status(response.status);
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
}

/**
 * Descope authentication for an MCP server on Express (4 or 5). Mount the returned router at the
 * app root, before your MCP route: it serves the well-known metadata and gates `mcpPath`. Takes the
 * core's options (or an engine from `createDescopeMcpAuth`) and throws a {@link ConfigurationError}
 * for invalid ones. Mounted under a path, it passes requests for the MCP path to `next` with a
 * `ConfigurationError` rather than leave them ungated. An allowed request goes on with
 * `req.auth` (the MCP SDK `AuthInfo`; tools read the session with `getSession(ctx)`), `req.body`
 * (the body the gate judged, when it read one) and the session for {@link sessionOf} (and for
 * `getSession()` anywhere below, with the `sessionContext` option).
 *
 * ```ts
 * app.use(descopeMcpAuth({ issuerURL, baseURL, toolScopes: { write_note: ["notes:write"] } }));
 * app.post("/mcp", express.json(), (req, res) => transport.handleRequest(req, res, req.body));
 * ```
 */
export function descopeMcpAuth(
  optionsOrAuth: DescopeMcpAuthOptions | DescopeMcpAuth,
  adapterOptions: DescopeMcpExpressOptions = {},
): DescopeMcpRouter {
  const engine = engineFor(optionsOrAuth, adapterOptions);
  const router = express.Router() as DescopeMcpRouter;

  // Mounted under a path (`app.use("/api", router)`), Express hands the router paths relative to
  // the mount point, so the gate below would miss an `mcpPath` that includes the mount: fail closed.
  router.use((req: Request, _res: Response, next: NextFunction) => {
    const { mcpPath } = engine.config;
    if (req.baseUrl && isUnderMcpPath(`${req.baseUrl}${req.path}`, mcpPath) && !isUnderMcpPath(req.path, mcpPath)) {
      return next(
        new ConfigurationError(
          `descopeMcpAuth() must be mounted at the app root (app.use(router)): under a path it cannot gate mcpPath "${mcpPath}"`,
        ),
      );
    }
    next();
  });

  // Well-known metadata: the core answers (any method; 405 with Allow for the unsupported ones).
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!engine.isMetadataPath(req.path)) return next();
    engine
      .handleMetadata({ method: req.method, path: req.path })
      .then((response) => (response ? writeWebResponse(res, response) : next()))
      .catch(next);
  });

  // The MCP endpoint: the core decides; the body it judged becomes `req.body`.
  const gate: RequestHandler = (req, res, next) => {
    engine.gate(gateInputFromNode(req, { url: req.originalUrl })).then((outcome) => {
      if (outcome.allow === "pass") return next();
      if (outcome.allow === false) return writeResult(res, outcome.result);
      for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value);
      handOverBody(req, outcome.body);
      req.auth = outcome.authInfo;
      const tagged = req as Tagged;
      tagged[ENGINE] = engine;
      tagged[SESSION] = outcome.session;
      engine.runInSession(outcome.session, () => next());
    }, next);
  };
  router.use(engine.config.mcpPath, gate);

  Object.defineProperty(router, "auth", { value: engine, enumerable: true });
  router.requireScopes = (...scopes: string[]) => requireScopesWith(engine, scopes);
  return router;
}

function requireScopesWith(fixed: DescopeMcpAuth | undefined, scopes: string[]): RequestHandler {
  return (req, res, next) => {
    const tagged = req as Tagged;
    const auth = fixed ?? tagged[ENGINE];
    const session = tagged[SESSION];
    if (!auth || !session) {
      next(new ConfigurationError("requireScopes() is used on a route that the Descope gate does not protect"));
      return;
    }
    try {
      auth.requireScopes(session, scopes);
      next();
    } catch (error) {
      writeResult(res, auth.errorResult(error));
    }
  };
}

/**
 * Route middleware: the authenticated caller must hold `scopes` (hierarchy aware), else 403
 * `insufficient_scope` with a step-up challenge. Works behind any `descopeMcpAuth` router; on a route
 * the gate does not protect it calls `next` with a {@link ConfigurationError}.
 */
export function requireScopes(...scopes: string[]): RequestHandler {
  return requireScopesWith(undefined, scopes);
}

/** The session of an authenticated request (set by the gate), or `undefined` when the gate did not allow it. */
export function sessionOf(req: Request): DescopeSession | undefined {
  return (req as Tagged)[SESSION];
}
