import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { selfSignedCertificate } from "./certificate.js";

/** An answer the {@link ClientMetadataHost} gives at one path (see {@link ClientMetadataHost.serve}). */
export interface HostedResponse {
  /** Default 200. */
  status?: number;
  /** Response headers (lower-case names); default `content-type: application/json` when `body` is set. */
  headers?: Record<string, string>;
  /** The raw body, sent as is (bytes too, e.g. invalid UTF-8). */
  body?: string | Uint8Array;
}

/** One request the {@link ClientMetadataHost} received. */
export interface HostedRequest {
  /** Upper-case method. */
  method: string;
  /** The path name, without the query string. */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** `Date.now()` on arrival. */
  at: number;
}

/**
 * A client ID metadata document, as an OAuth client publishes it at its `client_id` URL: RFC 7591 client
 * metadata plus `client_id`, which must be the document's own URL.
 */
export interface ClientIdMetadataDocument {
  /** The document's own URL, exactly. */
  client_id: string;
  /** Every redirect URI the client may use (exact match). */
  redirect_uris: string[];
  /** Shown on consent screens. */
  client_name?: string;
  /** Default `["authorization_code"]`; add `refresh_token` to be issued refresh tokens. */
  grant_types?: string[];
  /** Default `["code"]`. */
  response_types?: string[];
  /** `"none"` (the default): a document cannot carry a shared secret. */
  token_endpoint_auth_method?: string;
  /** Space-separated scopes the client may ask for. */
  scope?: string;
  [key: string]: unknown;
}

/**
 * A local HTTPS server for client ID metadata documents: it plays the MCP client's web site, so a test can
 * use an `https://127.0.0.1:<port>/…` client ID offline. Its certificate is self-signed and generated at
 * start; give {@link ClientMetadataHost.ca} to the emulator (`clientIdMetadataDocuments: { ca }`) so that it,
 * and nothing else, trusts this host.
 */
export interface ClientMetadataHost {
  /** `https://127.0.0.1:<port>` */
  baseURL: string;
  /** The host's self-signed certificate (PEM), to trust it as a CA. */
  ca: string;
  /** `${baseURL}${path}`; `path` must start with `/`. */
  url(path: string): string;
  /**
   * Serves `document` as `application/json` at the path of its `client_id`, which must be a URL on this
   * host. Returns that URL. Publishing again at the same path replaces the document.
   */
  publish(document: ClientIdMetadataDocument): string;
  /** Serves any answer at `path` (a wrong status, content type or body; a redirect), replacing what was there. Returns the URL. */
  serve(path: string, response: HostedResponse): string;
  /** Stops serving `path` (it answers 404 again). */
  unpublish(path: string): void;
  /** Every request received, in order. */
  requests: HostedRequest[];
  /** Stops the server; idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startClientMetadataHost}. */
export interface ClientMetadataHostOptions {
  /** Default 0 (a random free port). */
  port?: number;
  /** `127.0.0.1` (default), `::1` or `localhost`: the names the certificate is issued for. */
  host?: "127.0.0.1" | "::1" | "localhost";
}

/**
 * Starts a {@link ClientMetadataHost} on `127.0.0.1` (HTTPS, a fresh self-signed certificate).
 *
 * @example
 * ```ts
 * const host = await startClientMetadataHost();
 * const emu = await startDescopeEmulator({ clientIdMetadataDocuments: { ca: host.ca } });
 * const oauth = new HeadlessOAuthClient({ clientMetadataUrl: host.url("/client.json") });
 * host.publish(oauth.clientMetadataDocument);
 * ```
 */
export async function startClientMetadataHost(options: ClientMetadataHostOptions = {}): Promise<ClientMetadataHost> {
  const hostname = options.host ?? "127.0.0.1";
  if (!["127.0.0.1", "::1", "localhost"].includes(hostname)) {
    throw new TypeError("startClientMetadataHost: host must be 127.0.0.1, ::1 or localhost");
  }
  const { cert, key } = selfSignedCertificate("descope-mcp client metadata host");
  const routes = new Map<string, HostedResponse>();
  const requests: HostedRequest[] = [];
  const server: Server = createServer({ cert, key }, (req, res) => {
    const path = new URL(req.url ?? "/", "https://host.invalid").pathname;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    requests.push({ method: req.method ?? "GET", path, headers, at: Date.now() });
    req.resume();
    const route = req.method === "GET" || req.method === "HEAD" ? routes.get(path) : undefined;
    const answer: HostedResponse = route ?? { status: 404, body: JSON.stringify({ error: "not_found" }) };
    const out: Record<string, string> = { "cache-control": "no-store" };
    if (answer.body !== undefined) {
      out["content-type"] = "application/json";
      out["content-length"] = String(Buffer.byteLength(answer.body));
    }
    for (const [k, v] of Object.entries(answer.headers ?? {})) out[k.toLowerCase()] = v;
    res.writeHead(answer.status ?? 200, out);
    res.end(req.method === "HEAD" ? undefined : answer.body);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const baseURL = `https://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  const url = (path: string) => {
    if (!path.startsWith("/")) throw new TypeError(`ClientMetadataHost: a path must start with "/", got "${path}"`);
    return `${baseURL}${path}`;
  };
  let closed: Promise<void> | undefined;
  return {
    baseURL,
    ca: cert,
    url,
    publish(document) {
      const id = typeof document.client_id === "string" ? document.client_id : "";
      if (!id.startsWith(`${baseURL}/`)) {
        throw new TypeError(`ClientMetadataHost: the document's client_id must be a URL on ${baseURL}, got "${id}"`);
      }
      const path = new URL(id).pathname;
      routes.set(path, { status: 200, body: JSON.stringify(document) });
      return id;
    },
    serve(path, response) {
      const target = url(path);
      routes.set(path, { ...response });
      return target;
    },
    unpublish(path) {
      routes.delete(path);
    },
    requests,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
