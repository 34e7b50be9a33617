import type { DescopeMcpAuth, DescopeSession } from "@descope-mcp/core";
import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from "@nestjs/common";
import { Observable } from "rxjs";
import { nodeRequestOf, SESSION } from "./platform.js";
import { DESCOPE_MCP_AUTH } from "./tokens.js";

/** The session `DescopeMcpAuthGuard` attached to a request (Express or Fastify), or `undefined`. */
export function sessionOf(request: unknown): DescopeSession | undefined {
  if (typeof request !== "object" || request === null) return undefined;
  return nodeRequestOf(request)[SESSION];
}

/**
 * With the engine's `sessionContext` option on, runs the rest of an authenticated request —
 * interceptors, pipes, the handler, the MCP transport and the tools it calls — with the caller's
 * session current, so `getSession()` works anywhere below it. `DescopeMcpAuthModule` registers it
 * for every route; with the option off (the default) and for requests without a session it passes
 * them on untouched.
 */
@Injectable()
export class DescopeMcpSessionInterceptor implements NestInterceptor {
  constructor(@Inject(DESCOPE_MCP_AUTH) private readonly auth: DescopeMcpAuth) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.auth.config.sessionContext || context.getType() !== "http") return next.handle();
    const session = sessionOf(context.switchToHttp().getRequest());
    if (!session) return next.handle();
    return new Observable((subscriber) => this.auth.runInSession(session, () => next.handle().subscribe(subscriber)));
  }
}
