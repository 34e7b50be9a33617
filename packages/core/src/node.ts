/**
 * Node-only helpers shared by the Node adapters (Express, Nest, xmcp): the current request's
 * session through AsyncLocalStorage. Kept out of the main entry so the core stays runtime-neutral.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { DescopeSession } from "./session.js";

const storage = new AsyncLocalStorage<DescopeSession>();

/** Runs `fn` with `session` as the current session (for `getSession()` anywhere below it). */
export function runWithSession<T>(session: DescopeSession, fn: () => T): T {
  return storage.run(session, fn);
}

/** The session of the request being handled, or `undefined` outside an authenticated request. */
export function getSession(): DescopeSession | undefined {
  return storage.getStore();
}

/** Like `getSession()`, but throws when called outside an authenticated request. */
export function requireSession(): DescopeSession {
  const session = storage.getStore();
  if (!session) throw new Error("No Descope session: this code is not running inside an authenticated MCP request");
  return session;
}
