import type { DescopeSession } from "@descope-mcp/core";
import { runWithSession } from "@descope-mcp/core/node";
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from "@nestjs/common";
import { Observable } from "rxjs";
import { nodeRequestOf, SESSION } from "./platform.js";

/** The session `DescopeMcpAuthGuard` attached to a request (Express or Fastify), or `undefined`. */
export function sessionOf(request: unknown): DescopeSession | undefined {
  if (typeof request !== "object" || request === null) return undefined;
  return nodeRequestOf(request)[SESSION];
}

/**
 * Runs the rest of an authenticated request — interceptors, pipes, the handler, the MCP transport
 * and the tools it calls — with the caller's session current, so `getSession()` works anywhere below
 * it. `DescopeMcpAuthModule` registers it for every route (requests without a session pass untouched).
 */
@Injectable()
export class DescopeMcpSessionInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const session = context.getType() === "http" ? sessionOf(context.switchToHttp().getRequest()) : undefined;
    if (!session) return next.handle();
    return new Observable((subscriber) => runWithSession(session, () => next.handle().subscribe(subscriber)));
  }
}
