import type { DescopeMcpAuth, DescopeSession, GateOutcome } from "@descope-mcp/core";
import { gateInputFromNode } from "@descope-mcp/core/node";
import { type CanActivate, type ExecutionContext, Inject, Injectable } from "@nestjs/common";
import { Reflector } from "@nestjs/core";
import { PUBLIC_ROUTE, REQUIRED_SCOPES } from "./decorators.js";
import {
  addHeaders,
  gateInputOf,
  handOverParsedBody,
  MCP_NEST_RESOURCE_METADATA_URL,
  nodeRequestOf,
  reachesMcpEndpoint,
  SESSION,
  writeAnswer,
} from "./platform.js";
import { DESCOPE_MCP_AUTH } from "./tokens.js";

/**
 * The caller as `req.user`: what `@rekog/mcp-nest` (`@ToolScopes`, `@ToolRoles`, step-up) and most
 * Nest code read. Built from the verified session; never carries the token.
 */
export interface DescopeMcpUser {
  /** The token's subject: the Descope user ID. */
  readonly sub: string;
  /** The Descope user ID (the same as `sub`). */
  readonly userId: string;
  /** The `email` claim, when the token has one. */
  readonly email?: string;
  /** The OAuth client the token was issued to, when known. */
  readonly clientId?: string;
  /** The token's scopes, space-separated (OAuth `scope`). */
  readonly scope: string;
  /** The token's scopes, one per entry. */
  readonly scopes: readonly string[];
  /** The project-level `roles` claim. */
  readonly roles: readonly string[];
  /** The project-level `permissions` claim. */
  readonly permissions: readonly string[];
  /** The user's tenants with their roles and permissions, by tenant ID. */
  readonly tenants: DescopeSession["tenants"];
}

/** Sessions are frozen and shared by every request carrying the same token: so is their `req.user`. */
const users = new WeakMap<DescopeSession, DescopeMcpUser>();

function userOf(session: DescopeSession): DescopeMcpUser {
  let user = users.get(session);
  if (!user) {
    user = buildUser(session);
    users.set(session, user);
  }
  return user;
}

function buildUser(session: DescopeSession): DescopeMcpUser {
  return Object.freeze({
    sub: session.userId,
    userId: session.userId,
    ...(session.email === undefined ? {} : { email: session.email }),
    ...(session.clientId === undefined ? {} : { clientId: session.clientId }),
    scope: session.scopes.join(" "),
    scopes: session.scopes,
    roles: session.roles,
    permissions: session.permissions,
    tenants: session.tenants,
  });
}

/**
 * Descope authentication for Nest routes, globally (`{ provide: APP_GUARD, useClass:
 * DescopeMcpAuthGuard }`) or per controller (`@UseGuards(DescopeMcpAuthGuard)`).
 *
 * - Routes under `mcpPath` (by route pattern, global prefix included, or by request path) get the
 *   core's whole MCP gate: CORS preflight, 405 for other methods, the bearer token, `requiredScopes`,
 *   `@RequireScopes()` and the per-tool `toolScopes` over the body it reads itself.
 * - Every other route it guards needs a valid token with `requiredScopes` and `@RequireScopes()`.
 * - `@Public()` routes pass without a token.
 *
 * A refusal is answered by the guard itself, verbatim (status, `WWW-Authenticate`, JSON body), and
 * Nest runs nothing more for that request: no handler, and no exception filter — Nest's or yours —
 * can rewrite the answer. An allowed request carries `req.auth` (MCP SDK `AuthInfo`), `req.user`
 * (unless something set it before) and the session (`@DescopeSession()`, `getSession(ctx)` in tools;
 * `getSession()` anywhere below with the engine's `sessionContext` option).
 */
@Injectable()
export class DescopeMcpAuthGuard implements CanActivate {
  /** Handler → controller → its decorators (a handler may serve several controllers through inheritance). */
  private readonly routes = new WeakMap<object, WeakMap<object, Route>>();

  constructor(
    @Inject(DESCOPE_MCP_AUTH) private readonly auth: DescopeMcpAuth,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Microservice handlers (e.g. @rekog/mcp-nest tools with inheritAppConfig) run inside the HTTP request the guard already passed.
    if (context.getType() !== "http") return true;
    const route = this.routeOf(context.getHandler(), context.getClass());
    if (route.public) return true;
    const { routeScopes } = route;
    // An HTTP context's arguments are the request and the response (what switchToHttp() wraps).
    const req: unknown = context.getArgByIndex(0);
    const res: unknown = context.getArgByIndex(1);
    const outcome = reachesMcpEndpoint(req, this.auth.config.mcpPath)
      ? await this.auth.gate(gateInputOf(req, routeScopes))
      : await this.authenticateRoute(req, routeScopes);
    if (outcome.allow === "pass") return true;
    if (outcome.allow === false) {
      writeAnswer(res, outcome.result);
      return answered();
    }
    const node = nodeRequestOf(req);
    node.auth = outcome.authInfo;
    node[SESSION] = outcome.session;
    node.user ??= userOf(outcome.session);
    node[MCP_NEST_RESOURCE_METADATA_URL] = this.auth.config.resourceMetadataURL;
    handOverParsedBody(req, outcome.body);
    addHeaders(res, outcome.headers);
    return true;
  }

  /** The route's `@Public()` and `@RequireScopes()` (controller and handler), read once per route. */
  private routeOf(handler: object, controller: object): Route {
    let byController = this.routes.get(handler);
    if (!byController) {
      byController = new WeakMap();
      this.routes.set(handler, byController);
    }
    let route = byController.get(controller);
    if (!route) {
      const targets = [handler, controller] as Array<() => void>;
      route = {
        public: this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets) === true,
        routeScopes: this.reflector.getAllAndMerge<string[]>(REQUIRED_SCOPES, targets) ?? [],
      };
      byController.set(controller, route);
    }
    return route;
  }

  /** A route other than the MCP endpoint: the token and scopes, no body, no per-tool policy. */
  private async authenticateRoute(req: unknown, routeScopes: readonly string[]): Promise<GateOutcome> {
    try {
      const input = gateInputFromNode(nodeRequestOf(req));
      const session = await this.auth.authenticate(input, { mcpEndpoint: false, routeScopes });
      return { allow: true, session, authInfo: this.auth.toAuthInfo(session), body: undefined, headers: {} };
    } catch (error) {
      return { allow: false, result: this.auth.errorResult(error) };
    }
  }
}

interface Route {
  public: boolean;
  routeScopes: readonly string[];
}

/**
 * The guard has written the refusal: it never settles, so Nest runs nothing more for this request
 * (no handler, and no exception filter that could write a second answer over it). A fresh promise
 * each time, referenced by nothing but this request's own continuation, so it is collected with it.
 */
function answered(): Promise<never> {
  return new Promise<never>(() => undefined);
}
