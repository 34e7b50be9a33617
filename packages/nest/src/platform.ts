/**
 * The translation table between Nest's two HTTP platforms and the core. Express hands guards the
 * Node request and response themselves; Fastify wraps them (`request.raw`, `reply.raw`). Everything
 * the core decides (tokens, scopes, bodies, paths) stays in the core: this file only finds the Node
 * objects, hands the core what it reads, and writes back what it answers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  AS_WELL_KNOWN,
  type AuthErrorResult,
  type DescopeMcpAuth,
  type DescopeSession,
  isUnderMcpPath,
  type McpAuthInfo,
  PRM_WELL_KNOWN,
  prmPathFor,
} from "@descope-mcp/core";
import { gateInputFromNode, type NodeRequest, readNodeBody, writeResult } from "@descope-mcp/core/node";

/** Where the guard leaves the caller's session on the Node request. */
export const SESSION = Symbol.for("@descope-mcp/nest:session");
/** The raw body the Fastify pre-parsing step read for the gate (a promise of its bytes). */
const RAW_BODY = Symbol.for("@descope-mcp/nest:raw-body");
/** Marks a body parser that already skips the MCP path. */
const SKIPS_MCP_PATH = Symbol.for("@descope-mcp/nest:skips-mcp-path");
/** The request key under which `@rekog/mcp-nest` looks for the protected resource metadata URL. */
export const MCP_NEST_RESOURCE_METADATA_URL = Symbol.for("@rekog/mcp-nest:resource-metadata-url");

/** The Node request as the guard leaves it: the MCP SDK transports read `auth`, `@rekog/mcp-nest` reads `user`. */
export type GuardedRequest = NodeRequest & {
  auth?: McpAuthInfo;
  user?: unknown;
  [SESSION]?: DescopeSession;
  [MCP_NEST_RESOURCE_METADATA_URL]?: string;
};

/** What Fastify's request wrapper offers that this package uses. */
interface FastifyRequestLike {
  raw: GuardedRequest;
  server: { errorHandler: FastifyErrorHandler };
  body?: unknown;
  routeOptions?: { url?: string };
  [RAW_BODY]?: Promise<unknown>;
}

/** What Fastify's reply offers that this package uses. */
interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): unknown;
  sent?: boolean;
}

/** An Express request (a Node request with the router's extras). */
type ExpressRequestLike = GuardedRequest & { route?: { path?: unknown }; path?: string; originalUrl?: string };

const isFastifyRequest = (req: unknown): req is FastifyRequestLike =>
  typeof req === "object" && req !== null && "raw" in req && typeof (req as FastifyRequestLike).raw === "object";
const isFastifyReply = (res: unknown): res is FastifyReplyLike =>
  typeof res === "object" && res !== null && typeof (res as FastifyReplyLike).hijack === "function";

/** The Node request under a platform request (Express: itself; Fastify: `request.raw`). */
export function nodeRequestOf(req: unknown): GuardedRequest {
  return (isFastifyRequest(req) ? req.raw : req) as GuardedRequest;
}

/** The Node response under a platform response (Express: itself; Fastify: `reply.raw`). */
export function nodeResponseOf(res: unknown): ServerResponse {
  return (isFastifyReply(res) ? res.raw : res) as ServerResponse;
}

/** The path part of a request target (no query, no fragment). */
function pathOf(target: string | undefined): string {
  if (target === undefined) return "";
  const q = target.indexOf("?");
  const h = target.indexOf("#");
  const end = q < 0 ? h : h < 0 ? q : Math.min(q, h);
  return end < 0 ? target : target.slice(0, end);
}

/**
 * Whether a request reaches the MCP endpoint: its route pattern (which includes Nest's global
 * prefix) or its path is `mcpPath` or under it, in any spelling a router may match. Gating too much
 * is safe; gating too little is not, so either one is enough.
 */
export function reachesMcpEndpoint(req: unknown, mcpPath: string): boolean {
  // The path first: it is at hand (Fastify builds a new `routeOptions` object on every read).
  const fastify = isFastifyRequest(req);
  const path = fastify
    ? pathOf(req.raw.url)
    : ((req as ExpressRequestLike).path ?? pathOf((req as ExpressRequestLike).url));
  if (isUnderMcpPath(path, mcpPath)) return true;
  const pattern = fastify ? req.routeOptions?.url : (req as ExpressRequestLike).route?.path;
  return typeof pattern === "string" && isUnderMcpPath(pattern, mcpPath);
}

/** The core's gate input for a platform request, with `routeScopes` from the route's decorators. */
export function gateInputOf(req: unknown, routeScopes: readonly string[]) {
  const node = nodeRequestOf(req);
  if (isFastifyRequest(req)) {
    // Fastify has consumed the stream by now: the gate gets the raw bytes the pre-parsing step read
    // (see `keepFastifyParsersOffMcpPath`) or, on a route without that step, what Fastify parsed.
    const read = req[RAW_BODY];
    const input = gateInputFromNode(node, { readBody: read ? () => read : () => Promise.resolve(req.body) });
    input.routeScopes = routeScopes;
    return input;
  }
  // Express: the body parsers skip the MCP path, so the gate reads the stream itself (or takes what a
  // parser mounted some other way produced).
  const url = (req as ExpressRequestLike).originalUrl ?? node.url;
  const input = gateInputFromNode(node, url === undefined ? {} : { url });
  input.routeScopes = routeScopes;
  return input;
}

/** Hands the body the gate judged to what runs next (`req.body` on the Node request and on Fastify's wrapper). */
export function handOverParsedBody(req: unknown, body: unknown): void {
  if (body === undefined) return;
  const node = nodeRequestOf(req);
  node.body = body;
  node._body = true;
  if (isFastifyRequest(req)) req.body = body;
}

/**
 * Writes one of the core's answers verbatim (exact status, headers and bytes; a 413 closes the
 * connection). On Fastify the reply is hijacked first, so Fastify neither adds to it nor answers again.
 */
export function writeAnswer(res: unknown, result: AuthErrorResult): void {
  if (isFastifyReply(res)) res.hijack();
  writeResult(nodeResponseOf(res), result);
}

/** Adds headers (CORS) to whatever the handler answers, on the Node response so hijacked replies keep them. */
export function addHeaders(res: unknown, headers: Readonly<Record<string, string>>): void {
  const node = nodeResponseOf(res);
  for (const name in headers) node.setHeader(name, headers[name] as string);
}

/** What Nest's HTTP adapter offers that the module uses (both platforms). */
export interface HttpAdapterLike {
  getType(): string;
  getInstance(): unknown;
  all(path: string, handler: (req: unknown, res: unknown) => unknown): unknown;
}

/** The well-known paths the core answers (path-aware and root protected resource metadata, AS metadata). */
const metadataPathsOf = (auth: DescopeMcpAuth) =>
  new Set([prmPathFor(auth.config.resourceURL), PRM_WELL_KNOWN, AS_WELL_KNOWN]);

/** Answers a metadata route (`path`) with the core's answer for the request's method. */
async function answerMetadata(auth: DescopeMcpAuth, path: string, req: unknown, res: unknown): Promise<void> {
  let result: AuthErrorResult;
  try {
    const response = await auth.handleMetadata({ method: nodeRequestOf(req).method ?? "", path });
    result = response ? await resultOf(response) : auth.errorResult(undefined);
  } catch (error) {
    result = auth.errorResult(error);
  }
  writeAnswer(res, result);
}

/** The well-known routes the core answers, served at the origin root (outside any global prefix). */
export function serveMetadata(adapter: HttpAdapterLike, auth: DescopeMcpAuth): void {
  for (const path of metadataPathsOf(auth)) {
    adapter.all(path, (req: unknown, res: unknown) => answerMetadata(auth, path, req, res));
  }
}

async function resultOf(response: Response): Promise<AuthErrorResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { status: response.status, headers, body: response.body ? await response.text() : "" };
}

/** Body parser middleware as `body-parser` names it (Nest's defaults, `app.useBodyParser()`, `express.json()`). */
const EXPRESS_BODY_PARSERS = new Set(["jsonParser", "urlencodedParser", "textParser", "rawParser"]);

interface ExpressLayer {
  handle?: ((req: ExpressRequestLike, res: unknown, next: (error?: unknown) => void) => unknown) & {
    [SKIPS_MCP_PATH]?: true;
  };
}

/**
 * Express: keeps the app's body parsers (Nest's own, `useBodyParser()`, `app.use(express.json())`
 * before `init`) off the MCP path, so the gate reads that body itself, after the token, with the
 * core's rules and limit, and hands on exactly what it judged; and off the metadata routes, which
 * read no body (a body a parser refuses must not turn their answer into a parser error). Other
 * paths are parsed as before.
 */
export function keepExpressParsersOffMcpPath(app: unknown, auth: DescopeMcpAuth): void {
  const express = app as { _router?: { stack?: ExpressLayer[] }; router?: { stack?: ExpressLayer[] } };
  // Express 4 keeps its router in `_router` (its `router` getter throws); Express 5 in `router`.
  const stack = (express._router ?? express.router)?.stack;
  if (!Array.isArray(stack)) return;
  const { mcpPath } = auth.config;
  // Spelled as Express matches routes by default: any case, with or without a trailing slash.
  const metadata = new Set([...metadataPathsOf(auth)].map((path) => path.toLowerCase()));
  const skips = (path: string) =>
    isUnderMcpPath(path, mcpPath) || metadata.has((path.endsWith("/") ? path.slice(0, -1) : path).toLowerCase());
  for (const layer of stack) {
    const parse = layer.handle;
    if (typeof parse !== "function" || parse[SKIPS_MCP_PATH] || !EXPRESS_BODY_PARSERS.has(parse.name)) continue;
    const skipping: NonNullable<ExpressLayer["handle"]> = (req, res, next) =>
      skips(req.path ?? pathOf(req.url)) ? next() : parse(req, res, next);
    Object.defineProperty(skipping, "name", { value: parse.name });
    skipping[SKIPS_MCP_PATH] = true;
    layer.handle = skipping;
  }
}

interface FastifyRouteOptions {
  url?: string;
  method?: string | string[];
  bodyLimit?: number;
  preParsing?: unknown;
  errorHandler?: unknown;
}

interface FastifyLike {
  addHook(name: "onRoute", hook: (route: FastifyRouteOptions) => void): unknown;
}

/** The methods whose body Fastify never reads. */
const FASTIFY_BODYLESS = new Set(["GET", "HEAD", "TRACE"]);

type FastifyErrorHandler = (error: unknown, request: FastifyRequestLike, reply: FastifyReplyLike) => unknown;

/**
 * Fastify parses bodies before any guard runs, so on the MCP routes the module watches the raw bytes
 * as Fastify reads them (the core's reader, observing: aborted, cut short and over-the-limit bodies are
 * typed refusals) and keeps them for the gate, which judges exactly what Fastify parsed. Whatever then stops the
 * request before the guard — the read failed, Fastify's parser refused the body (415 for a content
 * type it has no parser for, 400 for JSON it finds unsafe), a hook failed — is answered by the core
 * when the core refuses the request (a 401 for a missing token comes first, then its own 400/405/413);
 * when the core would have let it through, Fastify's answer stands. Must run before routes exist.
 */
export function keepFastifyParsersOffMcpPath(instance: unknown, auth: DescopeMcpAuth): void {
  const fastify = instance as FastifyLike;
  const { mcpPath, bodyLimit } = auth.config;
  const metadata = metadataPathsOf(auth);
  fastify.addHook("onRoute", (route) => {
    if (typeof route.url !== "string") return;
    const path = route.url;
    if (metadata.has(path)) {
      // The metadata routes read no body: whatever Fastify refused before them, the core answers the method.
      route.errorHandler = (_error: unknown, request: FastifyRequestLike, reply: FastifyReplyLike) =>
        void answerMetadata(auth, path, request, reply);
      return;
    }
    if (!isUnderMcpPath(path, mcpPath)) return;
    // Fastify must accept what the core accepts: the core's reader enforces `bodyLimit`.
    route.bodyLimit = Math.max(route.bodyLimit ?? 0, bodyLimit);
    const readForGate = (
      request: FastifyRequestLike,
      _reply: unknown,
      payload: unknown,
      done: (error: unknown, payload?: unknown) => void,
    ) => {
      // Only the request stream itself can be judged (a payload another hook replaced stays
      // Fastify's), and Fastify reads no body for GET, HEAD or TRACE: neither does this step.
      if (payload !== request.raw || FASTIFY_BODYLESS.has(request.raw.method ?? "")) return done(null, payload);
      // The bytes Fastify is about to read, seen as they go by (every listener of the stream gets
      // every chunk): the guard judges exactly what Fastify parses, and no copy is made.
      const read = readNodeBody(request.raw, bodyLimit, { observe: true });
      read.catch(() => undefined); // judged by the guard or the error handler below, whichever runs
      request[RAW_BODY] = read;
      done(null, payload);
    };
    route.preParsing = [
      ...(Array.isArray(route.preParsing) ? route.preParsing : route.preParsing ? [route.preParsing] : []),
      readForGate,
    ];
    const own = typeof route.errorHandler === "function" ? (route.errorHandler as FastifyErrorHandler) : undefined;
    // What would have answered without this step: the route's own handler, else the app's (Nest's).
    const fallback: FastifyErrorHandler = (error, request, reply) =>
      (own ?? request.server.errorHandler)(error, request, reply);
    route.errorHandler = (error: unknown, request: FastifyRequestLike, reply: FastifyReplyLike) => {
      // Only an error that stopped the request before the guard decided (the body could not be read
      // or parsed, or a hook failed): the core's refusal comes first, as it would have in the guard.
      if (reply.sent || request.raw[SESSION] || !request[RAW_BODY]) return fallback(error, request, reply);
      void auth
        .gate(gateInputOf(request, []))
        .then(async (outcome) => {
          if (outcome.allow === false) writeAnswer(reply, outcome.result);
          else await fallback(error, request, reply);
        })
        .catch(() => {
          // The app's own error handler failed: answer rather than leave the client hanging.
          if (!reply.sent) writeAnswer(reply, auth.errorResult(undefined));
        });
    };
  });
}

/** The Node request, response and judged body under Nest's platform objects, for an MCP transport. */
export interface NodeHttp {
  /** The Node request; the guard set `auth` on it (read by MCP SDK v1 and v2 transports). */
  req: IncomingMessage & {
    /** Always set on a request a server received. */
    method: string;
    /** Always set on a request a server received. */
    url: string;
    /** The caller, set by the guard: the MCP SDK's `authInfo`. */
    auth?: McpAuthInfo;
  };
  /** The Node response the transport writes to. */
  res: ServerResponse;
  /** The parsed body: what the gate judged (or what a body parser produced); `undefined` = the transport reads the stream. */
  body: unknown;
}

/**
 * The Node request and response under Nest's platform objects, ready for an MCP transport's
 * `handleRequest(req, res, body)`. Express: the same objects. Fastify: `request.raw` and `reply.raw`,
 * with the reply hijacked so Fastify leaves the answer to the transport.
 *
 * ```ts
 * @All() async mcp(@Req() request: unknown, @Res() reply: unknown) {
 *   const { req, res, body } = nodeHttp(request, reply);
 *   await transport.handleRequest(req, res, body);
 * }
 * ```
 */
export function nodeHttp(request: unknown, response: unknown): NodeHttp {
  if (isFastifyReply(response)) response.hijack();
  const req = nodeRequestOf(request);
  const body = isFastifyRequest(request) ? request.body : req.body;
  // A request a server received always has its method and URL (Node types them optional for client requests).
  return { req: req as NodeHttp["req"], res: nodeResponseOf(response), body };
}
