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
  method?: string;
  url?: string;
  originalUrl?: string;
  /** Express: the path of the URL (no query). */
  path?: string;
  headers: Record<string, string | string[] | undefined>;
  /** Set by the gate: xmcp passes it to the MCP SDK as `authInfo` (the tools' `extra.authInfo`). */
  auth?: McpAuthInfo;
  body?: unknown;
  [key: string]: unknown;
}

/** The response object of xmcp's HTTP target (a Node `ServerResponse`). */
export interface XmcpNodeResponse {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableEnded?: boolean;
  readonly destroyed?: boolean;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  end(chunk?: unknown): unknown;
  destroy?(error?: Error): unknown;
  [key: string]: unknown;
}

/** Express's `next`. */
export type XmcpNext = (error?: unknown) => void;

/** The context xmcp's Cloudflare target passes a Web middleware. */
export interface XmcpWebMiddlewareContext {
  auth?: McpAuthInfo;
  setAuth: (auth: McpAuthInfo) => void;
}

/** A Worker module's default export (what `xmcp build --cf` writes to `worker.js`). */
export interface WorkerModule<Env = unknown, Ctx = unknown> {
  fetch(request: Request, env: Env, ctx: Ctx): Response | Promise<Response>;
}
