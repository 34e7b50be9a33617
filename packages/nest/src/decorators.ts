import type { DescopeSession as Session } from "@descope-mcp/core";
import { createParamDecorator, type ExecutionContext, Inject, SetMetadata } from "@nestjs/common";
import { sessionOf } from "./session.js";
import { DESCOPE_MCP_AUTH } from "./tokens.js";

/** Metadata key of `@RequireScopes()`. */
export const REQUIRED_SCOPES = Symbol.for("@descope-mcp/nest:required-scopes");
/** Metadata key of `@Public()`. */
export const PUBLIC_ROUTE = Symbol.for("@descope-mcp/nest:public");

/**
 * Scopes a route needs, on a controller (every route in it) or a handler; class and handler scopes
 * add up. The guard checks them in the same decision as the server-wide `requiredScopes` and the
 * per-tool `toolScopes`, so a caller short of any of them gets one 403 `insufficient_scope` naming
 * every scope the request needs.
 *
 * ```ts
 * @Controller("mcp") @RequireScopes("mcp:use")
 * export class McpController { … }
 * ```
 */
export const RequireScopes = (...scopes: string[]) => SetMetadata(REQUIRED_SCOPES, scopes);

/** Lets a route (or every route of a controller) through `DescopeMcpAuthGuard` without a token, e.g. `/health`. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * The caller's `DescopeSession` (set by `DescopeMcpAuthGuard`), or one of its fields:
 * `@DescopeSession() session`, `@DescopeSession("userId") userId`. `undefined` on a `@Public()` route.
 */
export const DescopeSession: (field?: keyof Session) => ParameterDecorator = createParamDecorator(
  (field: keyof Session | undefined, context: ExecutionContext): unknown => {
    const session = sessionOf(context.switchToHttp().getRequest());
    return field ? session?.[field] : session;
  },
);

/** The caller's verified session (the core's `DescopeSession`): the type of a `@DescopeSession()` parameter. */
export type DescopeSession = Session;

/** Injects the core engine (`DescopeMcpAuth`: connections, management, verifyToken, …) into a constructor parameter. */
export const InjectDescopeMcpAuth = () => Inject(DESCOPE_MCP_AUTH);
