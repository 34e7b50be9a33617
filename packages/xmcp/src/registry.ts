import { ConfigurationError, type DescopeSession as CoreSession, type DescopeMcpAuth } from "@descope-mcp/core";

/** The engine that authenticated each session, for the accessors (`getUser`, `fetchConnectionToken`, …). */
const engines = new WeakMap<CoreSession, DescopeMcpAuth>();
let latest: DescopeMcpAuth | undefined;

/** Records the engine of the newest provider (used when a session's own engine is unknown). */
export function register(engine: DescopeMcpAuth): void {
  latest = engine;
}

/** Records which engine authenticated `session`. */
export function remember(session: CoreSession, engine: DescopeMcpAuth): void {
  engines.set(session, engine);
}

/** The engine for `session` (or the newest provider's); throws when no provider exists. */
export function engineOf(session: CoreSession | undefined, caller: string): DescopeMcpAuth {
  const engine = (session && engines.get(session)) ?? latest;
  if (!engine) {
    throw new ConfigurationError(
      `${caller} needs descopeProvider(): export it as the default of src/middleware.ts (no provider was created in this process)`,
    );
  }
  return engine;
}

// Cloudflare: the wrapper (`descopeWorker`) and xmcp's worker are two bundles, each with its own copy
// of this module; the requests the wrapper authorized are known to both through one global map,
// keyed by the exact `Request` object the wrapper hands xmcp (nothing a client sends can name it).
const GRANTS = Symbol.for("@descope-mcp/xmcp.grants");
const holder = globalThis as { [GRANTS]?: WeakMap<Request, CoreSession> };
const grants: WeakMap<Request, CoreSession> = holder[GRANTS] ?? new WeakMap<Request, CoreSession>();
holder[GRANTS] = grants;

/** Marks `request` as authorized for `session` (the wrapper does this for what it hands xmcp). */
export function grant(request: Request, session: CoreSession): void {
  grants.set(request, session);
}

/** The session the wrapper authorized `request` for, if it did. */
export function grantFor(request: Request): CoreSession | undefined {
  return grants.get(request);
}

// The MCP paths descopeWorker wrappers in this isolate gate, so xmcp's side can explain a mismatch.
const WRAPPED = Symbol.for("@descope-mcp/xmcp.wrapped-paths");
const wrappedHolder = globalThis as { [WRAPPED]?: Set<string> };
const wrapped: Set<string> = wrappedHolder[WRAPPED] ?? new Set<string>();
wrappedHolder[WRAPPED] = wrapped;

/** Records that a descopeWorker wrapper gates `mcpPath`. */
export function wrapping(mcpPath: string): void {
  wrapped.add(mcpPath);
}

/** The MCP paths the descopeWorker wrappers of this isolate gate. */
export function wrappedPaths(): string[] {
  return [...wrapped];
}
