import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DEFAULT_METADATA_MAX_BYTES,
  DEFAULT_METADATA_TIMEOUT_MS,
  type MetadataDocumentPolicy,
  trustedCertificates,
} from "./client-metadata.js";
import { discoveryPaths, jwksPaths, registrationPath, serveDiscovery, serveJwks } from "./discovery.js";
import { descopeError, type EmulatorRequest, type EmulatorResponse, readRequest, send, toRecorded } from "./http.js";
import { KeyStore } from "./keys.js";
import { authorize, register, token } from "./oauth.js";
import { type OutboundKind, outbound, outboundPaths } from "./outbound.js";
import { DEFAULT_USER, type EmulatorState, mergeUser } from "./state.js";
import { FOREIGN_JWKS_PATH, FOREIGN_PEM_PATH, TokenFactory } from "./tokens.js";
import type {
  ConnectionState,
  DescopeEmulator,
  EmulatorOptions,
  Fault,
  FaultTarget,
  RecordedRequest,
} from "./types.js";
import { loadUser, USERS_PATH } from "./users.js";

/** The project ID the emulator uses unless `projectId` is given (28 characters, like Descope's). */
export const DEFAULT_PROJECT_ID = "P2EmuLat0rPr0jectId000000001";
/** The MCP server ID the emulator uses unless `mcpServerId` is given. */
export const DEFAULT_MCP_SERVER_ID = "MEmulat0rMcpServer0000000001";
/** The management key the emulator accepts unless `managementKey` is given. */
export const DEFAULT_MANAGEMENT_KEY = "emulator-management-key";
/** The `scopes_supported` every emulator advertises; `scopesSupported` adds to them. */
export const DEFAULT_SCOPES_SUPPORTED = ["openid", "profile", "email", "outbound.token.fetch"];

interface Route {
  target: FaultTarget | undefined;
  methods: string[];
  handle(req: EmulatorRequest): EmulatorResponse | Promise<EmulatorResponse>;
}

const CORS = { "access-control-allow-origin": "*", "access-control-expose-headers": "www-authenticate, location" };
const ID_SEGMENT = /^[A-Za-z0-9_-]+$/;

function checkOptions(o: EmulatorOptions): void {
  const fail = (m: string) => {
    throw new TypeError(`startDescopeEmulator: ${m}`);
  };
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535))
    fail("port must be an integer 0–65535");
  for (const [k, v] of [
    ["projectId", o.projectId],
    ["mcpServerId", o.mcpServerId],
  ] as const) {
    if (v !== undefined && !ID_SEGMENT.test(v)) fail(`${k} must be a non-empty URL path segment ([A-Za-z0-9_-])`);
  }
  if (o.managementKey !== undefined && (o.managementKey.length === 0 || /\s/.test(o.managementKey))) {
    fail("managementKey must be a non-empty string without whitespace");
  }
  if (o.accessTokenTtlSeconds !== undefined && !Number.isFinite(o.accessTokenTtlSeconds))
    fail("accessTokenTtlSeconds must be a number");
  const cimd = o.clientIdMetadataDocuments;
  if (typeof cimd === "object" && cimd !== null) {
    for (const key of ["timeoutMs", "maxBytes"] as const) {
      const v = cimd[key];
      if (v !== undefined && !(Number.isInteger(v) && v > 0))
        fail(`clientIdMetadataDocuments.${key} must be a positive integer`);
    }
    const ca = cimd.ca;
    if (
      ca !== undefined &&
      !(typeof ca === "string" || (Array.isArray(ca) && ca.every((c) => typeof c === "string")))
    ) {
      fail("clientIdMetadataDocuments.ca must be a PEM string or an array of them");
    }
  }
}

function metadataDocumentPolicy(
  option: EmulatorOptions["clientIdMetadataDocuments"],
): MetadataDocumentPolicy | undefined {
  if (option === false) return undefined;
  const o = typeof option === "object" && option !== null ? option : {};
  return {
    ca: trustedCertificates(o.ca),
    timeoutMs: o.timeoutMs ?? DEFAULT_METADATA_TIMEOUT_MS,
    maxBytes: o.maxBytes ?? DEFAULT_METADATA_MAX_BYTES,
  };
}

function hostForURL(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts a local stand-in for Descope's hosted API on `127.0.0.1` (a random port by default): discovery,
 * JWKS, dynamic client registration, client ID metadata documents, authorize, token, outbound app tokens
 * and the users API, on Descope's own paths. Each emulator has a fresh RSA key and its own state.
 *
 * @example
 * ```ts
 * const emu = await startDescopeEmulator();
 * const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: "http://127.0.0.1:3000" });
 * // …
 * await emu.close();
 * ```
 * @throws TypeError on invalid options.
 */
export async function startDescopeEmulator(options: EmulatorOptions = {}): Promise<DescopeEmulator> {
  checkOptions(options);
  const host = options.host ?? "127.0.0.1";
  const projectId = options.projectId ?? DEFAULT_PROJECT_ID;
  const mcpServerId = options.mcpServerId ?? DEFAULT_MCP_SERVER_ID;
  const keys = await KeyStore.create();

  const state = {
    projectId,
    mcpServerId,
    managementKey: options.managementKey ?? DEFAULT_MANAGEMENT_KEY,
    urls: { baseURL: "", issuerURL: "", wellKnownURL: "", jwksURL: "" },
    keys,
    user: mergeUser(DEFAULT_USER, options.user),
    users: structuredClone(options.users ?? []),
    audience: options.audience,
    grantableScopes: options.grantableScopes ? [...options.grantableScopes] : undefined,
    scopesSupported: [...new Set([...DEFAULT_SCOPES_SUPPORTED, ...(options.scopesSupported ?? [])])],
    ttlSeconds: options.accessTokenTtlSeconds ?? 3600,
    connections: new Map(Object.entries(options.connections ?? {})),
    dynamicRegistration: options.dynamicClientRegistration ?? true,
    metadataDocuments: metadataDocumentPolicy(options.clientIdMetadataDocuments),
    clients: new Map(),
    codes: new Map(),
    refreshTokens: new Map(),
  } as Omit<EmulatorState, "tokens"> as EmulatorState;
  state.tokens = new TokenFactory({
    keys,
    projectId,
    mcpServerId,
    baseURL: () => state.urls.baseURL,
    issuerURL: () => state.urls.issuerURL,
    user: () => state.user,
    audience: () => state.audience ?? projectId,
    ttlSeconds: () => state.ttlSeconds,
  });

  const routes = new Map<string, Route>();
  const add = (paths: string[], route: Route) => {
    for (const p of paths) routes.set(p, route);
  };
  add(discoveryPaths(state), { target: "discovery", methods: ["GET", "HEAD"], handle: () => serveDiscovery(state) });
  add(jwksPaths(state), { target: "jwks", methods: ["GET", "HEAD"], handle: () => serveJwks(state) });
  add([FOREIGN_JWKS_PATH], {
    target: undefined,
    methods: ["GET", "HEAD"],
    handle: async () => ({ status: 200, body: { keys: [(await keys.foreignKey()).publicJwk] } }),
  });
  add([FOREIGN_PEM_PATH], {
    target: undefined,
    methods: ["GET", "HEAD"],
    handle: async () => ({
      status: 200,
      headers: { "content-type": "application/x-pem-file" },
      body: (await keys.foreignKey()).publicPem,
    }),
  });
  if (state.dynamicRegistration) {
    add([registrationPath(state)], { target: "register", methods: ["POST"], handle: (r) => register(state, r) });
  }
  add([`/oauth2/v1/apps/agentic/${projectId}/${mcpServerId}/authorize`], {
    target: "authorize",
    methods: ["GET"],
    handle: (r) => authorize(state, r),
  });
  add([`/oauth2/v1/apps/agentic/${projectId}/${mcpServerId}/token`], {
    target: "token",
    methods: ["POST"],
    handle: (r) => token(state, r),
  });
  for (const [kind, path] of Object.entries(outboundPaths) as [OutboundKind, string][]) {
    add([path], { target: "outbound", methods: ["POST"], handle: (r) => outbound(state, r, kind) });
  }
  add([USERS_PATH], { target: "users", methods: ["GET"], handle: (r) => loadUser(state, r) });

  const faults = new Map<FaultTarget, Fault>();
  const requests: RecordedRequest[] = [];
  const sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          sleepers.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      sleepers.add(entry);
    });
  const wakeAll = () => {
    for (const s of sleepers) {
      clearTimeout(s.timer);
      s.wake();
    }
    sleepers.clear();
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on("error", () => {});
    const at = Date.now();
    let r: EmulatorRequest;
    try {
      r = await readRequest(req, state.urls.baseURL);
    } catch {
      req.socket.destroy();
      return;
    }
    requests.push(toRecorded(r, at));
    const route = routes.get(r.path);
    const fault = (route?.target !== undefined ? faults.get(route.target) : undefined) ?? faults.get("all");
    if (fault) {
      if (fault.delayMs !== undefined && fault.delayMs > 0) await sleep(fault.delayMs);
      if (res.destroyed || req.socket.destroyed) return;
      if (fault.destroy) {
        req.socket.destroy();
        return;
      }
      if (fault.status !== undefined || fault.body !== undefined) {
        const headers: Record<string, string> = { "content-type": "application/json", ...CORS };
        for (const [k, v] of Object.entries(fault.headers ?? {})) headers[k.toLowerCase()] = v;
        send(res, {
          status: fault.status ?? 500,
          headers,
          body: fault.body ?? JSON.stringify({ error: "server_error", error_description: "Emulated fault" }),
        });
        return;
      }
    }
    let out: EmulatorResponse;
    if (r.method === "OPTIONS") {
      out = {
        status: 204,
        headers: {
          "access-control-allow-methods": route ? [...route.methods, "OPTIONS"].join(", ") : "GET, POST, OPTIONS",
          "access-control-allow-headers": r.headers["access-control-request-headers"] ?? "authorization, content-type",
          "access-control-max-age": "600",
        },
      };
    } else if (!route) {
      out = descopeError(404, "Not found", `The emulator serves nothing at ${r.path}`);
    } else if (!route.methods.includes(r.method)) {
      out = descopeError(405, "Method not allowed", `${r.method} is not allowed on ${r.path}`);
      out.headers = { ...out.headers, allow: route.methods.join(", ") };
    } else {
      try {
        out = await route.handle(r);
      } catch (error) {
        out = { status: 500, body: { error: "server_error", error_description: String(error) } };
      }
    }
    send(res, { ...out, headers: { ...CORS, ...out.headers } }, r.method === "HEAD");
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  let listening = false;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        listening = true;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
      server.closeAllConnections();
      wakeAll();
    });

  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const baseURL = `http://${hostForURL(host)}:${port}`;
  const issuerURL = `${baseURL}/v1/apps/agentic/${projectId}/${mcpServerId}`;
  state.urls = {
    baseURL,
    issuerURL,
    wellKnownURL: `${issuerURL}/.well-known/openid-configuration`,
    jwksURL: `${baseURL}/${projectId}/.well-known/jwks.json`,
  };
  let closed = false;

  const emulator: DescopeEmulator = {
    ...state.urls,
    projectId,
    mcpServerId,
    managementKey: state.managementKey,
    mintToken: (claims, opts) => state.tokens.mint(claims, opts),
    tokens: state.tokens.hostile(),
    rotateKeys: () => keys.rotate(),
    retireOldKeys: () => keys.retireOld(),
    setUser: (user) => {
      state.user = mergeUser(state.user, user);
    },
    setConnection: (appId: string, s: ConnectionState) => {
      state.connections.set(appId, { ...s });
    },
    setGrantableScopes: (scopes) => {
      state.grantableScopes = scopes ? [...scopes] : undefined;
    },
    setFault: (target, fault) => {
      if (fault === undefined) faults.delete(target);
      else faults.set(target, { ...fault });
    },
    suspend: () => stop(),
    resume: async () => {
      if (closed) throw new Error("The emulator is closed");
      if (!listening) await listen(port);
    },
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    close: async () => {
      closed = true;
      await stop();
    },
  };
  return emulator;
}
