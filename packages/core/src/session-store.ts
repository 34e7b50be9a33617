/**
 * The caller of the current request, two ways:
 *
 * - explicitly, from what the gate handed on: `getSession(ctx)` reads the MCP SDK `AuthInfo` of a
 *   tool's context (v2 `ctx.http.authInfo`, v1 `extra.authInfo`), which every adapter sets. Works on
 *   every runtime and costs nothing;
 * - implicitly, with the `sessionContext` option: the gate runs the rest of the request with the
 *   session current, and `getSession()` without an argument finds it anywhere below, through the
 *   runtime's AsyncLocalStorage. Found without importing anything (so no bundler — esbuild, rspack for
 *   xmcp's Cloudflare build, Next.js — has a Node module to resolve): a global `AsyncLocalStorage`
 *   (Vercel and Next.js edge), else `process.getBuiltinModule("node:async_hooks")` (Node ≥ 20.16, Bun,
 *   Deno, Cloudflare Workers with `nodejs_compat`). Opt-in, because on Node 20 and 22 an
 *   AsyncLocalStorage in use slows down every promise in the process.
 */
import { ConfigurationError, NoSessionError } from "./errors.js";
import type { DescopeSession } from "./session.js";

interface SessionStorage {
  run<R>(store: DescopeSession, fn: () => R): R;
  getStore(): DescopeSession | undefined;
}
type StorageClass = new () => SessionStorage;

/** The process-wide (isolate-wide on Workers) state of the implicit session. */
interface SessionContextState {
  /** The storage, or `null` when the runtime has no AsyncLocalStorage. */
  readonly storage: SessionStorage | null;
  /** Whether anything runs requests with their session current (the `sessionContext` option, `runWithSession`). */
  enabled: boolean;
}

/**
 * One state per process (per isolate on Workers), however many copies of this module are loaded:
 * the ESM and CJS builds of this package, or two bundles of one app (xmcp's Cloudflare worker and the
 * module that wraps it) each carry their own copy, and a session set by one must be what
 * `getSession()` of the other returns.
 */
const STATE_KEY = Symbol.for("@descope-mcp/core.session-context");

function sessionContextState(): SessionContextState {
  const g = globalThis as typeof globalThis & {
    [STATE_KEY]?: SessionContextState;
    AsyncLocalStorage?: StorageClass;
    process?: { getBuiltinModule?: (id: string) => { AsyncLocalStorage?: StorageClass } | undefined };
  };
  const known = g[STATE_KEY];
  if (known !== undefined) return known;
  let Storage: StorageClass | undefined = typeof g.AsyncLocalStorage === "function" ? g.AsyncLocalStorage : undefined;
  if (!Storage) {
    try {
      Storage = g.process?.getBuiltinModule?.("node:async_hooks")?.AsyncLocalStorage;
    } catch {
      Storage = undefined;
    }
  }
  const state: SessionContextState = { storage: typeof Storage === "function" ? new Storage() : null, enabled: false };
  g[STATE_KEY] = state;
  return state;
}

/**
 * Turns the session context on for this process: from now on `getSession()` without an argument
 * answers (the current request's session, `undefined` outside one) instead of throwing. What an
 * engine with `sessionContext: true` does when it is created; for adapters and custom stacks that
 * run requests with `runWithSession` themselves. Returns `false`, changing nothing, on a runtime
 * without AsyncLocalStorage.
 */
export function enableSessionContext(): boolean {
  const state = sessionContextState();
  if (!state.storage) return false;
  state.enabled = true;
  return true;
}

/**
 * Runs `fn` with `session` as the current session (for `getSession()` anywhere below it, across
 * `await`s) and returns its result. Where the runtime has no AsyncLocalStorage, `fn` just runs (and
 * `getSession()` says why it cannot answer). Adapters call it only when the `sessionContext` option
 * is on; calling it yourself turns the implicit session on too.
 */
export function runWithSession<T>(session: DescopeSession, fn: () => T): T {
  const state = sessionContextState();
  if (!state.storage) return fn();
  state.enabled = true;
  return state.storage.run(session, fn);
}

/**
 * Where `getSession(context)` finds the caller: an MCP SDK tool's context (v2 `ctx`, whose
 * `http.authInfo` the transport fills; v1 `extra`, with `authInfo`), a Node request the gate let
 * through (its `req.auth`: Express, Nest, xmcp, `@rekog/mcp-nest`'s `ctx.getRawRequest()`), or an
 * `AuthInfo` itself.
 */
export type SessionSource =
  | { readonly http?: { readonly authInfo?: unknown } | undefined }
  | { readonly authInfo?: unknown }
  | { readonly auth?: unknown }
  | { readonly headers: unknown; readonly method?: unknown }
  | { readonly token: string; readonly extra?: Record<string, unknown> | undefined };

function notASource(): ConfigurationError {
  return new ConfigurationError(
    "getSession(context) takes the MCP tool's context (ctx in SDK v2, extra in SDK v1), the request the gate let through, or an AuthInfo",
  );
}

/** The `AuthInfo` a source carries, `undefined` when it has none (an unauthenticated transport). */
function authInfoIn(source: object): unknown {
  const s = source as Record<string, unknown>;
  // SDK v2 ServerContext: `http` is there only on HTTP transports, `mcpReq` always.
  if ("mcpReq" in s || "http" in s) {
    const http = s.http;
    return http !== null && typeof http === "object" ? (http as { authInfo?: unknown }).authInfo : undefined;
  }
  // SDK v1 RequestHandlerExtra (and v2's MessageExtraInfo): `authInfo` only when authenticated.
  if ("authInfo" in s || ("requestId" in s && "signal" in s)) return s.authInfo;
  // A Node request: the gate set `auth` on it (what the SDKs' Node transports read).
  if ("auth" in s || ("headers" in s && "method" in s)) return s.auth;
  // An AuthInfo itself.
  if (typeof s.token === "string" && Array.isArray(s.scopes)) return s;
  throw notASource();
}

function sessionIn(source: unknown): DescopeSession | undefined {
  if (source === null || typeof source !== "object") throw notASource();
  const authInfo = authInfoIn(source);
  if (authInfo === null || typeof authInfo !== "object") return undefined;
  const session = (authInfo as { extra?: { session?: unknown } }).extra?.session;
  // What the gate puts there: a frozen DescopeSession. Anything else is not a Descope caller.
  if (session === null || typeof session !== "object" || !Object.isFrozen(session)) return undefined;
  return typeof (session as DescopeSession).userId === "string" ? (session as DescopeSession) : undefined;
}

/**
 * The caller of the request being handled, or `undefined` when there is none.
 *
 * - `getSession(ctx)` — in an MCP tool, pass its context (`ctx` in SDK v2, `extra` in SDK v1; or an
 *   `AuthInfo`): the session the gate handed to the transport. Works on every runtime, with no
 *   option. Throws a `ConfigurationError` for an argument that is none of these.
 * - `getSession()` — anywhere below the gate, with the `sessionContext` option on (or inside
 *   `runWithSession`): the current request's session, `undefined` outside a request. Throws a
 *   `ConfigurationError` when nothing in this process turned the session context on, and on a
 *   runtime without AsyncLocalStorage (Cloudflare Workers without `nodejs_compat`).
 */
export function getSession(context?: SessionSource): DescopeSession | undefined {
  if (context !== undefined) return sessionIn(context);
  const state = sessionContextState();
  if (!state.storage) {
    throw new ConfigurationError(
      "getSession() needs AsyncLocalStorage, which this runtime does not provide (on Cloudflare Workers enable the nodejs_compat flag); pass the tool's context instead, getSession(ctx), or read the session from the request context",
    );
  }
  if (!state.enabled) {
    throw new ConfigurationError(
      "getSession() without an argument needs the session context: turn on the sessionContext option (createDescopeMcpAuth({ …, sessionContext: true })), or pass the tool's context: getSession(ctx)",
      "sessionContext",
    );
  }
  return state.storage.getStore();
}

/** Like `getSession(context?)`, but throws `NoSessionError` (500) where there is no authenticated caller. */
export function requireSession(context?: SessionSource): DescopeSession {
  const session = getSession(context);
  if (!session) throw new NoSessionError();
  return session;
}
