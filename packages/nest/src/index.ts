/**
 * `@descope-mcp/nest`: Descope authentication and authorization for MCP servers on NestJS 11 and 12,
 * on the Express and Fastify platforms.
 */
export type {
  AuthEvent,
  ConnectionToken,
  DescopeMcpAuth,
  DescopeMcpAuthOptions,
  DescopeMcpErrorCode,
  DescopeUser,
  GetTenantConnectionTokenParams,
  GetUserConnectionTokenParams,
  McpAuthInfo,
  SessionSource,
  TenantAccess,
  Timeouts,
} from "@descope-mcp/core";
// What users of this adapter need from the core, so they never have to install it themselves.
export {
  ConfigurationError,
  ConnectionDeniedError,
  ConnectionNotFoundError,
  createDescopeMcpAuth,
  createDescopeMcpAuthFromEnv,
  DescopeMcpError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isDescopeMcpError,
  MethodNotAllowedError,
  NoSessionError,
  PayloadTooLargeError,
  TokenExpiredError,
  UnauthorizedError,
  UpstreamError,
  UpstreamUnavailableError,
  UserNotFoundError,
} from "@descope-mcp/core";
export { getSession, requireSession } from "@descope-mcp/core/node";
export {
  DescopeSession,
  InjectDescopeMcpAuth,
  PUBLIC_ROUTE,
  Public,
  REQUIRED_SCOPES,
  RequireScopes,
} from "./decorators.js";
export { DescopeMcpAuthGuard, type DescopeMcpUser } from "./guard.js";
export {
  DescopeMcpAuthModule,
  type DescopeMcpAuthModuleAsyncOptions,
  type DescopeMcpAuthModuleExtras,
  type DescopeMcpAuthModuleForRootOptions,
  type DescopeMcpAuthModuleOptions,
} from "./module.js";
export { type NodeHttp, nodeHttp } from "./platform.js";
export { DescopeMcpSessionInterceptor, sessionOf } from "./session.js";
export { DESCOPE_MCP_AUTH } from "./tokens.js";
