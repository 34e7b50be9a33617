/**
 * The current request's session, through the runtime's AsyncLocalStorage, found without importing
 * anything (so no bundler — esbuild, rspack for xmcp's Cloudflare build, Next.js — has a Node module
 * to resolve): a global `AsyncLocalStorage` (Vercel and Next.js edge), else
 * `process.getBuiltinModule("node:async_hooks")` (Node ≥ 20.16, Bun, Deno, Cloudflare Workers with
 * `nodejs_compat`).
 */
import { ConfigurationError, NoSessionError } from "./errors.js";
import type { DescopeSession } from "./session.js";

interface SessionStorage {
  run<R>(store: DescopeSession, fn: () => R): R;
  getStore(): DescopeSession | undefined;
}
type StorageClass = new () => SessionStorage;

/**
 * One store per process (per isolate on Workers), however many copies of this module are loaded:
 * the ESM and CJS builds of this package, or two bundles of one app (xmcp's Cloudflare worker and the
 * module that wraps it) each carry their own copy, and a session set by one must be what
 * `getSession()` of the other returns. `null`: the runtime has no AsyncLocalStorage.
 */
const STORE_KEY = Symbol.for("@descope-mcp/core.session-store");

function sessionStorage(): SessionStorage | null {
  const g = globalThis as typeof globalThis & {
    [STORE_KEY]?: SessionStorage | null;
    AsyncLocalStorage?: StorageClass;
    process?: { getBuiltinModule?: (id: string) => { AsyncLocalStorage?: StorageClass } | undefined };
  };
  const known = g[STORE_KEY];
  if (known !== undefined) return known;
  let Storage: StorageClass | undefined = typeof g.AsyncLocalStorage === "function" ? g.AsyncLocalStorage : undefined;
  if (!Storage) {
    try {
      Storage = g.process?.getBuiltinModule?.("node:async_hooks")?.AsyncLocalStorage;
    } catch {
      Storage = undefined;
    }
  }
  const storage = typeof Storage === "function" ? new Storage() : null;
  g[STORE_KEY] = storage;
  return storage;
}

/**
 * Runs `fn` with `session` as the current session (for `getSession()` anywhere below it, across
 * `await`s) and returns its result. Where the runtime has no AsyncLocalStorage, `fn` just runs (and
 * `getSession()` says why it cannot answer).
 */
export function runWithSession<T>(session: DescopeSession, fn: () => T): T {
  const storage = sessionStorage();
  return storage ? storage.run(session, fn) : fn();
}

/**
 * The session of the request being handled (anywhere below the gate, tools included), or `undefined`
 * outside an authenticated request. Throws a `ConfigurationError` on a runtime without
 * AsyncLocalStorage (Cloudflare Workers without `nodejs_compat`): read the session from the request
 * context there, or `authInfo.extra.session` in a tool.
 */
export function getSession(): DescopeSession | undefined {
  const storage = sessionStorage();
  if (!storage) {
    throw new ConfigurationError(
      "getSession() needs AsyncLocalStorage, which this runtime does not provide (on Cloudflare Workers enable the nodejs_compat flag); read the session from the request context, or authInfo.extra.session in a tool, instead",
    );
  }
  return storage.getStore();
}

/** Like `getSession()`, but throws `NoSessionError` (500) when called outside an authenticated request. */
export function requireSession(): DescopeSession {
  const session = getSession();
  if (!session) throw new NoSessionError();
  return session;
}
