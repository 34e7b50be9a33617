import { MethodNotAllowedError } from "./errors.js";

/** RFC 9728 protected resource metadata. */
export interface ProtectedResourceMetadata {
  /** This server's resource identifier: the MCP endpoint URL (`baseURL` + `mcpPath`). */
  resource: string;
  /** The Descope issuer, the one authorization server. */
  authorization_servers: string[];
  /** The scopes clients may ask for (`scopesSupported`); absent when there are none. */
  scopes_supported?: string[];
  /** How the token is sent: `["header"]` only (never the query string or the body). */
  bearer_methods_supported: string[];
  /** The `resourceName` option, when set. */
  resource_name?: string;
  /** The `resourceDocumentation` option, when set. */
  resource_documentation?: string;
}

/** The root RFC 9728 metadata path; the path-aware one for the MCP endpoint is {@link prmPathFor}. */
export const PRM_WELL_KNOWN = "/.well-known/oauth-protected-resource";
/** The RFC 8414 authorization-server metadata path, served with Descope's discovery document. */
export const AS_WELL_KNOWN = "/.well-known/oauth-authorization-server";

/** The path-aware PRM path for a resource URL: `/.well-known/oauth-protected-resource<resource path>`. */
export function prmPathFor(resourceURL: string): string {
  const path = new URL(resourceURL).pathname.replace(/\/+$/, "");
  return `${PRM_WELL_KNOWN}${path}`;
}

const METADATA_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, OPTIONS",
  "access-control-allow-headers": "Authorization, Content-Type, MCP-Protocol-Version",
  "access-control-max-age": "86400",
} as const;

const ALLOW = "GET, HEAD, OPTIONS";

/** Answers a metadata route: 204 to preflight, 405 (with `Allow`) to other methods, JSON to GET/HEAD. */
export async function metadataResponse(
  method: string,
  body: () => Promise<unknown> | unknown,
  cacheSeconds: number,
): Promise<Response> {
  const m = method.toUpperCase();
  if (m === "OPTIONS") return new Response(null, { status: 204, headers: { ...METADATA_HEADERS } });
  if (m !== "GET" && m !== "HEAD") {
    return new Response(JSON.stringify(new MethodNotAllowedError(m, ALLOW.split(", ")).toJSON()), {
      status: 405,
      headers: { ...METADATA_HEADERS, allow: ALLOW, "content-type": "application/json" },
    });
  }
  const json = JSON.stringify(await body());
  return new Response(m === "HEAD" ? null : json, {
    status: 200,
    headers: {
      ...METADATA_HEADERS,
      "content-type": "application/json",
      "cache-control": `public, max-age=${cacheSeconds}`,
      ...(m === "HEAD" ? { "content-length": String(new TextEncoder().encode(json).byteLength) } : {}),
    },
  });
}

/** CORS headers for MCP endpoint responses: browsers may read the challenge and the MCP headers. */
export const MCP_CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version",
});

/** The answer to a CORS preflight on the MCP endpoint: 204, never 401. */
export const MCP_PREFLIGHT: Readonly<{
  /** Always 204. */
  status: number;
  /** {@link MCP_CORS_HEADERS} plus the allowed methods and request headers, cached for a day. */
  headers: Readonly<Record<string, string>>;
}> = Object.freeze({
  status: 204,
  headers: Object.freeze({
    ...MCP_CORS_HEADERS,
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    "access-control-allow-headers":
      "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID",
    "access-control-max-age": "86400",
  }),
});
