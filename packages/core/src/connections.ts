import { decodeJwt } from "jose";
import {
  ConfigurationError,
  ConnectionDeniedError,
  ConnectionNotFoundError,
  InvalidRequestError,
  UpstreamError,
} from "./errors.js";
import { type FetchLike, upstreamJson } from "./http.js";
import type { DescopeSession } from "./session.js";

/** A third-party access token released by Descope. Treat `accessToken` as a secret. */
export interface ConnectionToken {
  /** The third-party access token. A secret: never log it or return it from a tool. */
  accessToken: string;
  /** When it expires (Descope's `accessTokenExpiry`), when Descope says. Tokens without it are not cached. */
  expiresAt?: Date;
  /** The scopes it was granted, when Descope lists them. */
  scopes?: string[];
}

interface CallerCredentials {
  /** The verified session of the caller; its token authenticates the call (default). */
  session?: Pick<DescopeSession, "token" | "userId">;
  /** The caller's MCP access token, when there is no session object at hand. */
  accessToken?: string;
  /** Authenticate with the management key instead of the caller's token (needs `managementKey`). */
  useManagementKey?: boolean;
  /** Skip Descope's cache and refresh the third-party token (also bypasses this library's cache). */
  forceRefresh?: boolean;
  /** Use this library's connection-token cache (default true). `false` always asks Descope, e.g. for a live status check. */
  cache?: boolean;
}

/** Parameters of `auth.connections.getToken`: which user's token for which app, and how to authenticate the call. */
export interface GetUserConnectionTokenParams extends CallerCredentials {
  /** The Descope outbound (connection) app ID, e.g. `google-calendar`. */
  appId: string;
  /** Scopes the third-party token must have; omit for the latest token. */
  scopes?: string[];
  /** The tenant the user's connection belongs to, for connections made per tenant (sent to Descope as `tenantId`). */
  tenantId?: string;
  /** Whose token; default the session's user (or the access token's `sub`). */
  userId?: string;
}

/**
 * Parameters of `auth.connections.getTenantToken`: which tenant's token for which app, and how to
 * authenticate the call.
 */
export interface GetTenantConnectionTokenParams extends CallerCredentials {
  /** The Descope outbound (connection) app ID, e.g. `google-calendar`. */
  appId: string;
  /** The tenant whose token is asked for. */
  tenantId: string;
  /** Scopes the third-party token must have; omit for the latest token. */
  scopes?: string[];
}

export interface DescopeApiContext {
  fetch: FetchLike;
  apiBaseURL: string;
  projectId: string;
  managementKey?: string | undefined;
  timeoutMs: number;
  /** Connection tokens already fetched (absent: no caching). */
  connectionCache?: ConnectionTokenCache | undefined;
}

/**
 * Connection tokens kept until `refreshSkewMs` before they expire, keyed by everything that
 * decides the answer: the endpoint, the credential that authenticated the call (so a caller whose
 * token Descope would refuse never receives another caller's result), user or tenant, app and
 * scopes. Concurrent identical requests share one upstream call. Tokens without an expiry are
 * not kept.
 */
export class ConnectionTokenCache {
  private readonly entries = new Map<string, { token: ConnectionToken; freshUntil: number }>();
  private readonly inflight = new Map<string, Promise<ConnectionToken>>();
  private hits = 0;
  private misses = 0;

  constructor(private readonly options: { maxEntries: number; refreshSkewMs: number; now: () => number }) {}

  async through(key: string, forceRefresh: boolean, load: () => Promise<ConnectionToken>): Promise<ConnectionToken> {
    if (!forceRefresh) {
      const entry = this.entries.get(key);
      if (entry && this.options.now() < entry.freshUntil) {
        this.hits++;
        return entry.token;
      }
      if (entry) this.entries.delete(key);
      const pending = this.inflight.get(key);
      if (pending) {
        this.hits++;
        return pending;
      }
    }
    this.misses++;
    const run = load()
      .then((token) => {
        if (token.expiresAt && this.options.maxEntries > 0) {
          const freshUntil = token.expiresAt.getTime() - this.options.refreshSkewMs;
          if (freshUntil > this.options.now()) {
            this.entries.delete(key);
            while (this.entries.size >= this.options.maxEntries) {
              this.entries.delete(this.entries.keys().next().value as string);
            }
            this.entries.set(key, { token, freshUntil });
          }
        }
        return token;
      })
      .finally(() => {
        if (this.inflight.get(key) === run) this.inflight.delete(key);
      });
    this.inflight.set(key, run);
    return run;
  }

  stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hits, misses: this.misses, size: this.entries.size };
  }
}

/** The length from which a piece of a secret counts as leaked. */
const FRAGMENT = 8;

/** Whether `text` and `secret` share a substring of `FRAGMENT` or more characters. Linear in both. */
function sharesFragment(text: string, secret: string): boolean {
  if (text.length < FRAGMENT || secret.length < FRAGMENT) return false;
  const grams = new Set<string>();
  for (let i = 0; i + FRAGMENT <= secret.length; i++) grams.add(secret.slice(i, i + FRAGMENT));
  for (let i = 0; i + FRAGMENT <= text.length; i++) if (grams.has(text.slice(i, i + FRAGMENT))) return true;
  return false;
}

/** Descope's error codes look like `E062108`. */
const ERROR_CODE = /^[A-Z]{1,3}\d{3,10}$/;

/**
 * What of Descope's error body (`{errorCode, errorDescription, errorMessage}`) may reach a message:
 * its `errorCode` alone, when it has Descope's code shape and shares no 8-character piece with any
 * secret of the call. Descope's free text is dropped: it may quote what it was sent (the caller's
 * token, the management key), and no redaction of free text can promise that no fragment survives.
 */
export function describeDescopeError(json: unknown, secrets: readonly string[]): string {
  if (json === null || typeof json !== "object") return "";
  const code = (json as Record<string, unknown>).errorCode;
  if (typeof code !== "string" || !ERROR_CODE.test(code)) return "";
  if (secrets.some((secret) => secret && sharesFragment(code, secret))) return "";
  return ` (Descope error ${code})`;
}

function credentials(
  ctx: DescopeApiContext,
  params: CallerCredentials,
  what: string,
): { secret: string; token?: string } {
  if (params.useManagementKey) {
    if (!ctx.managementKey) {
      throw new ConfigurationError(
        `${what} with useManagementKey needs the managementKey option (DESCOPE_MANAGEMENT_KEY)`,
        "managementKey",
      );
    }
    return { secret: ctx.managementKey };
  }
  const token = params.session?.token ?? params.accessToken;
  if (!token) {
    throw new InvalidRequestError(`${what} needs the caller's session or accessToken (or useManagementKey: true)`);
  }
  return { secret: token, token };
}

function fetchConnectionToken(
  ctx: DescopeApiContext,
  path: string,
  body: Record<string, unknown>,
  secret: string,
  appId: string,
  forceRefresh: boolean,
  useCache = true,
): Promise<ConnectionToken> {
  const load = () => requestConnectionToken(ctx, path, body, secret, appId);
  if (!ctx.connectionCache || !useCache) return load();
  const { options: _options, ...identity } = body;
  const key = JSON.stringify([path, secret, identity]);
  return ctx.connectionCache.through(key, forceRefresh, load);
}

async function requestConnectionToken(
  ctx: DescopeApiContext,
  path: string,
  body: Record<string, unknown>,
  secret: string,
  appId: string,
): Promise<ConnectionToken> {
  const { status, json } = await upstreamJson(ctx.fetch, {
    url: `${ctx.apiBaseURL}${path}`,
    method: "POST",
    headers: { authorization: `Bearer ${ctx.projectId}:${secret}` },
    body,
    timeoutMs: ctx.timeoutMs,
    what: "connection-token API",
  });
  const detail = describeDescopeError(json, [secret]);
  if (status === 404) throw new ConnectionNotFoundError(appId, `No '${appId}' connection token was found${detail}`);
  if (status === 403)
    throw new ConnectionDeniedError(appId, `Descope denied access to the '${appId}' connection token${detail}`);
  if (status !== 200) throw new UpstreamError(`Descope connection-token API answered HTTP ${status}${detail}`, status);
  const token = (json as { token?: Record<string, unknown> } | undefined)?.token;
  if (!token || typeof token.accessToken !== "string" || token.accessToken.length === 0) {
    throw new UpstreamError("Descope connection-token API answered without an access token", status);
  }
  const result: ConnectionToken = { accessToken: token.accessToken };
  const expiry = token.accessTokenExpiry;
  if (typeof expiry === "number" && expiry > 0) result.expiresAt = new Date(expiry * 1000);
  else if (typeof expiry === "string" && /^\d+$/.test(expiry)) result.expiresAt = new Date(Number(expiry) * 1000);
  if (Array.isArray(token.scopes)) result.scopes = token.scopes.filter((s): s is string => typeof s === "string");
  return result;
}

function requireAppId(appId: unknown): string {
  if (typeof appId !== "string" || appId.length === 0) throw new InvalidRequestError("appId is required");
  return appId;
}

/** A user's third-party token: by scopes when `scopes` is given, else the latest one. */
export async function getUserConnectionToken(
  ctx: DescopeApiContext,
  params: GetUserConnectionTokenParams,
): Promise<ConnectionToken> {
  const appId = requireAppId(params.appId);
  const { secret, token } = credentials(ctx, params, "connections.getToken");
  let userId = params.userId ?? params.session?.userId;
  if (!userId && token) {
    try {
      const sub = decodeJwt(token).sub;
      if (typeof sub === "string") userId = sub;
    } catch {
      // fall through to the error below
    }
  }
  if (!userId)
    throw new InvalidRequestError("connections.getToken needs a userId (or a session or accessToken to take it from)");
  const options = { withRefreshToken: false, forceRefresh: params.forceRefresh === true };
  const body: Record<string, unknown> = { appId, userId, options };
  if (params.tenantId) body.tenantId = params.tenantId;
  const byScopes = params.scopes !== undefined && params.scopes.length > 0;
  if (byScopes) body.scopes = [...(params.scopes as string[])].sort();
  const path = byScopes ? "/v1/mgmt/outbound/app/user/token" : "/v1/mgmt/outbound/app/user/token/latest";
  return fetchConnectionToken(ctx, path, body, secret, appId, params.forceRefresh === true, params.cache !== false);
}

/** A tenant's third-party token: by scopes when `scopes` is given, else the latest one. */
export async function getTenantConnectionToken(
  ctx: DescopeApiContext,
  params: GetTenantConnectionTokenParams,
): Promise<ConnectionToken> {
  const appId = requireAppId(params.appId);
  if (typeof params.tenantId !== "string" || params.tenantId.length === 0) {
    throw new InvalidRequestError("connections.getTenantToken needs a tenantId");
  }
  const { secret } = credentials(ctx, params, "connections.getTenantToken");
  const options = { withRefreshToken: false, forceRefresh: params.forceRefresh === true };
  const body: Record<string, unknown> = { appId, tenantId: params.tenantId, options };
  const byScopes = params.scopes !== undefined && params.scopes.length > 0;
  if (byScopes) body.scopes = [...(params.scopes as string[])].sort();
  const path = byScopes ? "/v1/mgmt/outbound/app/tenant/token" : "/v1/mgmt/outbound/app/tenant/token/latest";
  return fetchConnectionToken(ctx, path, body, secret, appId, params.forceRefresh === true, params.cache !== false);
}
