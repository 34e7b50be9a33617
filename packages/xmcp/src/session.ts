import {
  ConfigurationError,
  type DescopeSession as CoreSession,
  type DescopeUser,
  type GetUserConnectionTokenParams,
  NoSessionError,
} from "@descope-mcp/core";
import { getSession as coreSession, enableSessionContext } from "@descope-mcp/core/node";
import { engineOf } from "./registry.js";

/** A tenant's roles and permissions (from the token's `tenants` claim). */
export interface DescopeTenant {
  /** The user's roles in the tenant. */
  readonly roles: readonly string[];
  /** The user's permissions in the tenant. */
  readonly permissions: readonly string[];
}

/**
 * The caller of the current request, in `@xmcp-dev/descope`'s shape (same field names and
 * meanings), plus `scopes` and `clientId`. Frozen: the same object may serve every request that
 * carries the same token.
 */
export interface DescopeSession {
  /** The Descope user ID (`sub`). */
  readonly userId: string;
  /** The `email` claim, `""` when the token has none. */
  readonly email: string;
  /** The raw access token. A secret: never log it or return it from a tool. */
  readonly token: string;
  /** The user's login IDs (emails, phones, usernames) from the token, `[]` when it has none. */
  readonly loginIds: readonly string[];
  /** The tenants the user belongs to, by tenant ID, with their roles and permissions. */
  readonly tenants: Readonly<Record<string, DescopeTenant>>;
  /** The project-level `permissions` claim followed by the token's OAuth scopes (as `@xmcp-dev/descope` defines it), without repeats. */
  readonly permissions: readonly string[];
  /** The project-level `roles` claim. */
  readonly roles: readonly string[];
  /** When the token expires (`exp`). */
  readonly expiresAt: Date;
  /** `iat`; `undefined` when the token has none. */
  readonly issuedAt: Date | undefined;
  /** Every claim of the token. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The token's OAuth scopes (`scope`, `scp`, `scopes`). */
  readonly scopes: readonly string[];
  /** The OAuth client the token was issued to (`azp`), when known. */
  readonly clientId: string | undefined;
}

/**
 * The current request's session. xmcp's accessors always read it from the session context (as
 * `@xmcp-dev/descope`'s do), so it is on for them whatever the engine's `sessionContext` option.
 */
function currentSession(): CoreSession | undefined {
  enableSessionContext();
  return coreSession();
}

const compatible = new WeakMap<CoreSession, DescopeSession>();

function toCompatible(session: CoreSession): DescopeSession {
  let view = compatible.get(session);
  if (!view) {
    view = Object.freeze({
      userId: session.userId,
      email: session.email ?? "",
      token: session.token,
      loginIds: session.loginIds,
      tenants: session.tenants,
      permissions: Object.freeze([...new Set([...session.permissions, ...session.scopes])]),
      roles: session.roles,
      expiresAt: session.expiresAt,
      issuedAt: session.issuedAt,
      get claims() {
        return session.claims;
      },
      scopes: session.scopes,
      clientId: session.clientId,
    });
    compatible.set(session, view);
  }
  return view;
}

function require(caller: string): CoreSession {
  const session = currentSession();
  if (!session) {
    throw new NoSessionError(
      `${caller} called outside of a request authenticated by descopeProvider(): call it from a tool (or code a tool awaits), with the provider as the default export of src/middleware.ts`,
    );
  }
  return session;
}

/**
 * The caller of the current request. Throws `NoSessionError` (code `no_session`) outside a request
 * that the Descope provider authenticated.
 */
export function getSession(): DescopeSession {
  return toCompatible(require("getSession()"));
}

/**
 * The caller as the core sees it (`@descope-mcp/core`'s `DescopeSession`: `permissions` is the
 * RBAC claim only, plus `audience`, `currentTenant`, `issuer`, …). Throws like `getSession()`.
 */
export function getDescopeSession(): CoreSession {
  return require("getDescopeSession()");
}

/** The caller's Descope user, loaded through the management API (needs `managementKey`). */
export async function getUser(): Promise<DescopeUser> {
  const session = require("getUser()");
  return engineOf(session, "getUser()").management.getUser(session.userId);
}

/** Options of `fetchConnectionToken` beyond the app and scopes. */
export type FetchConnectionTokenOptions = Pick<
  GetUserConnectionTokenParams,
  "tenantId" | "forceRefresh" | "cache" | "useManagementKey"
>;

/**
 * The caller's token for a connected third-party app (a Descope outbound app), fetched with the
 * caller's own access token (which needs the `outbound.token.fetch` scope) unless
 * `useManagementKey` is set. With `scopes`, a token with those scopes; without, the latest one.
 * Throws `ConnectionNotFoundError`, `ConnectionDeniedError`, `UpstreamError`, … (typed, with codes).
 */
export async function fetchConnectionToken(
  appId: string,
  scopes?: string[],
  options: FetchConnectionTokenOptions = {},
): Promise<string> {
  const session = require("fetchConnectionToken()");
  const engine = engineOf(session, "fetchConnectionToken()");
  const token = await engine.connections.getToken({ ...options, appId, session, ...(scopes ? { scopes } : {}) });
  return token.accessToken;
}

/** The `@descope/node-sdk` client (`ReturnType<typeof DescopeClient>`): cast it to that type for full typings. */
export interface DescopeNodeClient {
  /** The management API (users, tenants, …), authenticated with the management key. */
  readonly management: DescopeNodeManagementClient;
  [member: string]: unknown;
}

/** The management namespace of the `@descope/node-sdk` client (`client.management`). */
export interface DescopeNodeManagementClient {
  [member: string]: unknown;
}

type NodeSdk = (config: { projectId: string; managementKey?: string; baseUrl?: string }) => DescopeNodeClient;

const clients = new WeakMap<object, DescopeNodeClient>();

/** Loads the optional peer `@descope/node-sdk` synchronously, without a static import a bundler would follow. */
function loadNodeSdk(caller: string): NodeSdk {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; cwd?: () => string } }).process;
  const moduleApi = proc?.getBuiltinModule?.("node:module") as
    | { createRequire(from: string): (id: string) => unknown }
    | undefined;
  if (!moduleApi) {
    throw new ConfigurationError(
      `${caller} needs Node.js (it loads @descope/node-sdk); on other runtimes use getSession(), getUser() and fetchConnectionToken()`,
    );
  }
  const bases = [import.meta.url, proc?.cwd ? `${proc.cwd()}/` : undefined].filter((b): b is string => !!b);
  for (const base of bases) {
    try {
      const loaded = moduleApi.createRequire(base)("@descope/node-sdk") as NodeSdk | { default: NodeSdk };
      return typeof loaded === "function" ? loaded : loaded.default;
    } catch (error) {
      if ((error as { code?: string }).code !== "MODULE_NOT_FOUND") throw error;
    }
  }
  throw new ConfigurationError(
    `${caller} needs the optional peer dependency @descope/node-sdk: install it next to @descope-mcp/xmcp (npm i @descope/node-sdk)`,
  );
}

/**
 * The `@descope/node-sdk` client for the provider's project (its API base, region or custom domain
 * included, and its management key when configured). `@descope/node-sdk` is an optional peer
 * dependency, loaded on the first call; without it this throws a `ConfigurationError` saying so.
 */
export function getClient(): DescopeNodeClient {
  const engine = engineOf(currentSession(), "getClient()");
  let client = clients.get(engine);
  if (!client) {
    const { issuer, managementKey } = engine.config;
    client = loadNodeSdk("getClient()")({
      projectId: issuer.projectId,
      baseUrl: issuer.apiBaseURL,
      ...(managementKey ? { managementKey } : {}),
    });
    clients.set(engine, client);
  }
  return client;
}

/** The management API of `getClient()`; throws a `ConfigurationError` when no `managementKey` is configured. */
export function getManagementClient(): DescopeNodeManagementClient {
  const engine = engineOf(currentSession(), "getManagementClient()");
  if (!engine.config.managementKey) {
    throw new ConfigurationError(
      "getManagementClient() needs the managementKey option (DESCOPE_MANAGEMENT_KEY); none is configured",
      "managementKey",
    );
  }
  return getClient().management;
}
