import {
  ConfigurationError,
  type DescopeSession as CoreSession,
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  type DescopeMcpAuthOptions,
  InvalidRequestError,
  isUnderMcpPath,
  PayloadTooLargeError,
} from "@descope-mcp/core";
import {
  enableSessionContext,
  gateInputFromNode,
  handOverBody,
  type NodeRequest,
  runWithSession,
  writeResult,
} from "@descope-mcp/core/node";
import { grantFor, register, remember, wrappedPaths } from "./registry.js";
import {
  type XmcpNext,
  type XmcpNodeRequest,
  type XmcpNodeResponse,
  type XmcpWebMiddlewareContext,
  xmcpEndpoint,
} from "./xmcp.js";

/**
 * The options of `descopeProvider`: every option of the core engine (`createDescopeMcpAuth`). The
 * names of `@xmcp-dev/descope` (`issuerURL`, `baseURL`, `projectId`, `managementKey`,
 * `scopesSupported`) mean what they meant there. `mcpPath` defaults to the app's xmcp endpoint
 * (`http.endpoint` in `xmcp.config.ts`).
 */
export type DescopeConfig = DescopeMcpAuthOptions;

/**
 * xmcp's middleware for either target. On the HTTP target xmcp calls it as Express middleware
 * `(req, res, next)` on every path; on the Cloudflare target as a Web middleware `(request,
 * { setAuth })` on the MCP endpoint only.
 */
export type DescopeMiddleware = {
  (req: XmcpNodeRequest, res: XmcpNodeResponse, next: XmcpNext): void;
  (request: Request, context: XmcpWebMiddlewareContext): Response | undefined;
};

/**
 * What xmcp mounts (HTTP target) right before the middleware. It is an Express error handler, not
 * a router to add routes to: it answers requests that xmcp's own JSON parser refused on the way to
 * the MCP endpoint (invalid JSON, a body over xmcp's `http.bodySizeLimit`, an encoding it cannot
 * decode) with the gate's decision, so they get a JSON challenge instead of an HTML error page. It
 * carries `use`, `get`, `post` and `route` only because xmcp requires a router to have them; they
 * throw.
 */
export interface DescopeRouter {
  (error: unknown, req: XmcpNodeRequest, res: XmcpNodeResponse, next: XmcpNext): void;
  /** Not supported: throws (the router only serves the metadata routes). */
  use(...args: unknown[]): never;
  /** Not supported: throws (the router only serves the metadata routes). */
  get(...args: unknown[]): never;
  /** Not supported: throws (the router only serves the metadata routes). */
  post(...args: unknown[]): never;
  /** Not supported: throws (the router only serves the metadata routes). */
  route(...args: unknown[]): never;
}

/** What `descopeProvider` returns: xmcp's `{ middleware, router }` form, plus the engine. */
export interface DescopeProvider {
  /** The gate and the metadata routes (see `DescopeMiddleware`). */
  readonly middleware: DescopeMiddleware;
  /** The answer to requests xmcp's body parser refused (see `DescopeRouter`). */
  readonly router: DescopeRouter;
  /** The core engine: `verifyToken`, `connections`, `management`, `config`, … */
  readonly auth: DescopeMcpAuth;
}

function isEngine(value: unknown): value is DescopeMcpAuth {
  return typeof value === "object" && value !== null && typeof (value as DescopeMcpAuth).gate === "function";
}

function isProvider(value: unknown): value is DescopeProvider {
  return typeof value === "object" && value !== null && isEngine((value as DescopeProvider).auth);
}

const trimSlashes = (path: string) => (path.length > 1 ? path.replace(/\/+$/, "") : path);

/** The engine for `options`: xmcp's endpoint as `mcpPath`, and the `@xmcp-dev/descope` body for expired tokens. */
function engineFrom(optionsOrAuth: DescopeConfig | DescopeMcpAuth): DescopeMcpAuth {
  const endpoint = xmcpEndpoint();
  const engine = isEngine(optionsOrAuth)
    ? optionsOrAuth
    : createDescopeMcpAuth({
        expiredTokenError: "token_expired",
        ...optionsOrAuth,
        ...(optionsOrAuth.mcpPath === undefined && endpoint !== undefined ? { mcpPath: endpoint } : {}),
      });
  if (endpoint !== undefined && trimSlashes(engine.config.mcpPath) !== trimSlashes(endpoint)) {
    throw new ConfigurationError(
      `descopeProvider(): mcpPath "${engine.config.mcpPath}" is not this app's xmcp endpoint "${endpoint}" (http.endpoint in xmcp.config.ts); leave mcpPath unset to use xmcp's`,
      "mcpPath",
    );
  }
  return engine;
}

const pathOf = (req: XmcpNodeRequest): string =>
  typeof req.path === "string" ? req.path : (req.url ?? "/").split("?")[0] || "/";

/** Whether nothing more may be done with this exchange: answered already, or the client is gone. */
function finished(req: XmcpNodeRequest, res: XmcpNodeResponse): boolean {
  const socket = req.socket as { destroyed?: boolean } | undefined;
  return res.headersSent || res.writableEnded === true || res.destroyed === true || socket?.destroyed === true;
}

/** Last resort when our own code failed before the request was handed on: answer, never crash. */
function answerFailure(engine: DescopeMcpAuth, res: XmcpNodeResponse, error: unknown): void {
  try {
    if (!res.headersSent) writeResult(res as never, engine.errorResult(error));
    else res.destroy?.();
  } catch {
    // The connection is unusable; nothing is left to answer.
  }
}

async function writeWebResponse(res: XmcpNodeResponse, response: Response): Promise<void> {
  const body = response.body ? new Uint8Array(await response.arrayBuffer()) : undefined;
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  res.end(body);
}

/** An error xmcp's JSON parser (body-parser) passed on: a 4xx with what it read, when it read it. */
interface ParserError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  body?: unknown;
  limit?: unknown;
}

const clientErrorStatus = (error: unknown): boolean => {
  const e = error as ParserError | null;
  const status = typeof e?.status === "number" ? e.status : e?.statusCode;
  return typeof status === "number" && status >= 400 && status < 500;
};

/**
 * The body as the gate reads it after xmcp's parser refused it: the text it could not parse (the
 * core judges it, strictly), or the typed error for what could not be read at all.
 */
function bodyAfterParserError(error: ParserError): (limit: number) => Promise<unknown> {
  return (limit) => {
    if (error.type === "entity.parse.failed" && typeof error.body === "string") return Promise.resolve(error.body);
    if (error.type === "entity.too.large" || error.status === 413) {
      return Promise.reject(
        new PayloadTooLargeError(typeof error.limit === "number" ? Math.min(limit, error.limit) : limit),
      );
    }
    return Promise.reject(
      new InvalidRequestError("The request body could not be read (the server's JSON parser refused it)"),
    );
  };
}

/**
 * Creates the Descope provider of an xmcp app: export it as the default of `src/middleware.ts`.
 *
 * ```ts
 * // src/middleware.ts
 * import { descopeProvider } from "@descope-mcp/xmcp";
 * export default descopeProvider({ issuerURL: process.env.DESCOPE_ISSUER_URL!, baseURL: "http://127.0.0.1:3001" });
 * ```
 *
 * It serves the protected-resource and authorization-server metadata, gates the app's MCP
 * endpoint (every spelling of it), sets `req.auth` (the tools' `extra.authInfo`) and makes
 * `getSession()` and the other accessors work in tools. Takes the options, or an engine made with
 * `createDescopeMcpAuth` / `createDescopeMcpAuthFromEnv`.
 */
export function descopeProvider(optionsOrAuth: DescopeConfig | DescopeMcpAuth): DescopeProvider {
  const engine = engineFrom(optionsOrAuth);
  const mcpPath = engine.config.mcpPath;
  register(engine);
  // xmcp's accessors (getSession(), getUser(), …) read the current request's session, as
  // `@xmcp-dev/descope`'s do: the session context is always on here, whatever the engine's option.
  enableSessionContext();

  /** Decides one request to the MCP endpoint and either answers it or hands it on, exactly once. */
  const gate = (req: XmcpNodeRequest, res: XmcpNodeResponse, next: XmcpNext, parserError?: ParserError) => {
    let handedOn = false;
    const handOn = (error?: unknown) => {
      handedOn = true;
      next(error);
    };
    const input = gateInputFromNode(req as unknown as NodeRequest, {
      url: req.originalUrl ?? req.url,
      ...(parserError ? { readBody: bodyAfterParserError(parserError) } : {}),
    });
    engine
      .gate(input)
      .then((outcome) => {
        // Answered already, or the client is gone: the tool must not run for nobody.
        if (finished(req, res)) return;
        if (outcome.allow === "pass") return handOn(parserError);
        if (outcome.allow === false) return writeResult(res as never, outcome.result);
        // No per-tool policy needed the body: xmcp answers its own parser's refusal (no tool runs).
        if (parserError) return handOn(parserError);
        for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value);
        handOverBody(req as unknown as NodeRequest, outcome.body);
        req.auth = outcome.authInfo;
        remember(outcome.session, engine);
        handedOn = true;
        runWithSession(outcome.session, () => next());
      })
      .catch((error: unknown) => {
        if (!handedOn) answerFailure(engine, res, error);
      });
  };

  const serveMetadata = (req: XmcpNodeRequest, res: XmcpNodeResponse, next: XmcpNext) => {
    engine
      .handleMetadata({ method: req.method ?? "GET", path: pathOf(req) })
      .then((response) => (response ? writeWebResponse(res, response) : next()))
      .catch((error: unknown) => answerFailure(engine, res, error));
  };

  function nodeMiddleware(req: XmcpNodeRequest, res: XmcpNodeResponse, next: XmcpNext): void {
    try {
      const path = pathOf(req);
      if (engine.isMetadataPath(path)) serveMetadata(req, res, next);
      else if (isUnderMcpPath(path, mcpPath)) gate(req, res, next);
      else next();
    } catch (error) {
      answerFailure(engine, res, error);
    }
  }

  let warned = false;
  function webMiddleware(request: Request, context: XmcpWebMiddlewareContext): Response | undefined {
    const session: CoreSession | undefined = grantFor(request);
    if (session) {
      context.setAuth(engine.toAuthInfo(session));
      return undefined;
    }
    const others = wrappedPaths().filter((path) => trimSlashes(path) !== trimSlashes(mcpPath));
    const error = new ConfigurationError(
      others.length > 0
        ? `descopeWorker() gates "${others.join('", "')}" but xmcp's endpoint is "${mcpPath}": set mcpPath "${mcpPath}" (or MCP_PATH) in the provider's options, which the wrapper cannot read from xmcp's build`
        : "On xmcp's Cloudflare target, serve the worker through descopeWorker(worker, provider): xmcp routes nothing but the MCP endpoint to middleware, so the discovery metadata and the gate live in that wrapper",
      "mcpPath",
    );
    if (!warned) {
      warned = true;
      console.error(`@descope-mcp/xmcp: ${error.message}`);
    }
    return engine.errorResponse(error);
  }

  // Declared with three parameters: Express treats a four-parameter function as an error handler.
  const middleware = function descopeMiddleware(a: unknown, b: unknown, c?: unknown) {
    if (typeof Request !== "undefined" && a instanceof Request) {
      return webMiddleware(a, b as XmcpWebMiddlewareContext);
    }
    nodeMiddleware(a as XmcpNodeRequest, b as XmcpNodeResponse, c as XmcpNext);
    return undefined;
  } as DescopeMiddleware;

  const notARouter = (): never => {
    throw new ConfigurationError(
      "descopeProvider().router only answers requests xmcp's body parser refused; it is not an Express router to add routes to",
    );
  };
  const router = Object.assign(
    function descopeParserErrors(error: unknown, req: XmcpNodeRequest, res: XmcpNodeResponse, next: XmcpNext) {
      try {
        const path = pathOf(req);
        if (engine.isMetadataPath(path)) return serveMetadata(req, res, next);
        if (!clientErrorStatus(error) || !isUnderMcpPath(path, mcpPath)) return next(error);
        gate(req, res, next, error as ParserError);
      } catch {
        next(error);
      }
    },
    { use: notARouter, get: notARouter, post: notARouter, route: notARouter },
  ) as DescopeRouter;

  return Object.freeze({ middleware, router, auth: engine });
}

/** The provider given, or one made from options or an engine. */
export function providerFrom(value: DescopeProvider | DescopeConfig | DescopeMcpAuth): DescopeProvider {
  return isProvider(value) ? value : descopeProvider(value);
}
