import {
  type AuthErrorResult,
  ConfigurationError,
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  type DescopeMcpAuthOptions,
  type DescopeSession,
  InvalidRequestError,
  MCP_CORS_HEADERS,
  MCP_PREFLIGHT,
  type McpAuthInfo,
} from "@descope-mcp/core";
import { getSession, requireSession, runWithSession } from "@descope-mcp/core/node";
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from "express";

export type { DescopeMcpAuth, DescopeMcpAuthOptions, DescopeSession, McpAuthInfo };
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

export interface DescopeMcpExpressOptions {
  /** Answer CORS preflights on the MCP path and expose `WWW-Authenticate` (default true). */
  cors?: boolean;
  /** Body size limit when the gate has to parse JSON itself (default `"4mb"`). */
  bodyLimit?: string | number;
}

/** The router returned by `descopeMcpAuth`: mount it at the app root. */
export interface DescopeMcpRouter extends Router {
  /** The core engine (verifyToken, connections, management, …). */
  readonly auth: DescopeMcpAuth;
  /** Route middleware requiring scopes of the authenticated caller (403 with a step-up challenge otherwise). */
  requireScopes(...scopes: string[]): RequestHandler;
}

/**
 * Whether a body parser already read the request stream, so `req.body` is what the MCP transport
 * will see. `req.body` alone does not tell: Express 4's parsers set `req.body = {}` on requests they
 * skip (e.g. a Content-Type they do not recognise), leaving the JSON-RPC message unread in the stream
 * for a transport that reads it itself. Only POST bodies reach MCP dispatch.
 */
function bodyConsumed(req: Request): boolean {
  return req.method !== "POST" || req.readableEnded;
}

/** `req.body` for the core: a raw (Buffer) body as text, so `express.raw()` bodies are inspected too. */
function bodyOf(req: Request): unknown {
  return Buffer.isBuffer(req.body) ? req.body.toString("utf8") : req.body;
}

/** Whether `path` is `base` or below it, the way Express routes by default (case-insensitive, trailing slash). */
function isUnder(path: string, base: string): boolean {
  const p = path.toLowerCase().replace(/\/+$/, "");
  const b = base.toLowerCase().replace(/\/+$/, "");
  return p === b || p.startsWith(`${b}/`);
}

function isEngine(value: unknown): value is DescopeMcpAuth {
  return typeof value === "object" && value !== null && typeof (value as DescopeMcpAuth).authenticate === "function";
}

function send(res: Response, result: AuthErrorResult): void {
  res.status(result.status);
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  res.end(result.body);
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
 * app root, before your MCP route: it serves the well-known metadata and gates `mcpPath`.
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
  const auth = isEngine(optionsOrAuth) ? optionsOrAuth : createDescopeMcpAuth(optionsOrAuth);
  const cors = adapterOptions.cors !== false;
  const jsonParser = express.json({ limit: adapterOptions.bodyLimit ?? "4mb", type: () => true });
  const router = express.Router() as DescopeMcpRouter;

  // Mounted under a path (`app.use("/api", router)`), Express hands the router paths relative to
  // the mount point, so the gate below would miss an `mcpPath` that includes the mount: fail closed.
  router.use((req: Request, _res: Response, next: NextFunction) => {
    const { mcpPath } = auth.config;
    if (req.baseUrl && isUnder(`${req.baseUrl}${req.path}`, mcpPath) && !isUnder(req.path, mcpPath)) {
      return next(
        new ConfigurationError(
          `descopeMcpAuth() must be mounted at the app root (app.use(router)): under a path it cannot gate mcpPath "${mcpPath}"`,
        ),
      );
    }
    next();
  });

  // Well-known metadata: the core answers, the adapter only translates.
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!auth.isMetadataPath(req.path)) return next();
    const url = new URL(req.originalUrl, auth.config.baseURL);
    auth
      .handleMetadata(new Request(url, { method: req.method }))
      .then((response) => (response ? writeWebResponse(res, response) : next()))
      .catch(next);
  });

  const readBody = (req: Request, res: Response) => () =>
    new Promise<unknown>((resolve, reject) => {
      jsonParser(req, res, (error?: unknown) => {
        if (error) reject(new InvalidRequestError("The request body is not valid JSON"));
        else resolve(req.body);
      });
    });

  const gate: RequestHandler = (req, res, next) => {
    if (req.method === "OPTIONS") {
      if (!cors) return next();
      return send(res, { ...MCP_PREFLIGHT, headers: { ...MCP_PREFLIGHT.headers }, body: "" });
    }
    if (cors) for (const [name, value] of Object.entries(MCP_CORS_HEADERS)) res.setHeader(name, value);
    const tagged = req as Tagged;
    tagged[ENGINE] = auth;
    auth
      .authenticate(
        { authorization: req.headersDistinct?.authorization ?? req.headers.authorization, url: req.originalUrl },
        bodyConsumed(req) ? { body: bodyOf(req) } : { readBody: readBody(req, res) },
      )
      .then(
        (session) => {
          req.auth = auth.toAuthInfo(session);
          tagged[SESSION] = session;
          runWithSession(session, () => next());
        },
        (error: unknown) => send(res, auth.errorResult(error)),
      );
  };
  router.use(auth.config.mcpPath, gate);

  Object.defineProperty(router, "auth", { value: auth, enumerable: true });
  router.requireScopes = (...scopes: string[]) => requireScopesWith(auth, scopes);
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
      send(res, auth.errorResult(error));
    }
  };
}

/** Route middleware: the authenticated caller must hold `scopes` (hierarchy aware), else 403 `insufficient_scope`. */
export function requireScopes(...scopes: string[]): RequestHandler {
  return requireScopesWith(undefined, scopes);
}

/** The session of an authenticated request (set by the gate), or `undefined`. */
export function sessionOf(req: Request): DescopeSession | undefined {
  return (req as Tagged)[SESSION];
}
