/**
 * What this adapter reads of xmcp itself: the build-time constants its compiler defines, and the
 * shapes of its two middleware calling conventions (kept structural, so the adapter needs neither
 * xmcp's types nor Express at run time).
 */
import type { McpAuthInfo } from "@descope-mcp/core";

// Defined by xmcp's compiler (rspack DefinePlugin) in every module it bundles, this one included:
// `HTTP_CONFIG` is `xmcp.config.ts`'s `http` section, `IS_CLOUDFLARE` is true in `xmcp build --cf`.
// They stay bare identifiers here (DefinePlugin replaces only those); outside an xmcp build
// `typeof` says "undefined".
declare const HTTP_CONFIG: { endpoint?: unknown; bodySizeLimit?: unknown } | undefined;
declare const IS_CLOUDFLARE: boolean | undefined;

/** The MCP endpoint of the xmcp app this module was bundled into (`http.endpoint`), if any. */
export function xmcpEndpoint(): string | undefined {
  try {
    if (typeof HTTP_CONFIG === "undefined" || HTTP_CONFIG === null) return undefined;
    const endpoint = HTTP_CONFIG.endpoint;
    return typeof endpoint === "string" && endpoint.length > 0 ? endpoint : undefined;
  } catch {
    return undefined;
  }
}

/** True in a module bundled by `xmcp build --cf`. */
export function isXmcpCloudflareBuild(): boolean {
  try {
    return typeof IS_CLOUDFLARE !== "undefined" && IS_CLOUDFLARE === true;
  } catch {
    return false;
  }
}

/** The Express 4 request xmcp's HTTP target hands a middleware (only what the adapter uses). */
export interface XmcpNodeRequest {
  /** The HTTP method. */
  method?: string;
  /** The request target as the router sees it (mount path removed). */
  url?: string;
  /** Express: the request target as the client sent it. */
  originalUrl?: string;
  /** Express: the path of the URL (no query). */
  path?: string;
  /** The request headers, lower-cased names (Node's `IncomingHttpHeaders`). */
  headers: Record<string, string | string[] | undefined>;
  /** Set by the gate: xmcp passes it to the MCP SDK as `authInfo` (the tools' `extra.authInfo`). */
  auth?: McpAuthInfo;
  /** What xmcp's JSON parser produced (or, after the gate, the body it judged). */
  body?: unknown;
  [key: string]: unknown;
}

/** The response object of xmcp's HTTP target (a Node `ServerResponse`). */
export interface XmcpNodeResponse {
  /** The status to send. */
  statusCode: number;
  /** Whether the head was sent already. */
  readonly headersSent: boolean;
  /** Whether the answer was ended already. */
  readonly writableEnded?: boolean;
  /** Whether the connection was destroyed. */
  readonly destroyed?: boolean;
  /** Sets one response header. */
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  /** Ends the answer, with an optional last chunk. */
  end(chunk?: unknown): unknown;
  /** Destroys the connection. */
  destroy?(error?: Error): unknown;
  [key: string]: unknown;
}

/** Express's `next`. */
export type XmcpNext = (error?: unknown) => void;

/** The context xmcp's Cloudflare target passes a Web middleware. */
export interface XmcpWebMiddlewareContext {
  /** The caller, once set. */
  auth?: McpAuthInfo;
  /** Sets the caller xmcp hands the MCP SDK as `authInfo`. */
  setAuth: (auth: McpAuthInfo) => void;
}

/** A Worker module's default export (what `xmcp build --cf` writes to `worker.js`). */
export interface WorkerModule<Env = unknown, Ctx = unknown> {
  /** Answers one request (the Workers `fetch` handler). */
  fetch(request: Request, env: Env, ctx: Ctx): Response | Promise<Response>;
}
