/**
 * `@descope-mcp/xmcp`: Descope in front of an xmcp MCP server, on its HTTP and Cloudflare
 * targets. A drop-in replacement for `@xmcp-dev/descope` (same `descopeProvider` options and
 * accessors), built on `@descope-mcp/core`.
 */
export type {
  AuthEvent,
  ConnectionToken,
  DescopeMcpAuth,
  DescopeMcpAuthOptions,
  DescopeMcpErrorCode,
  DescopeUser,
  McpAuthInfo,
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
export {
  type DescopeConfig,
  type DescopeMiddleware,
  type DescopeProvider,
  type DescopeRouter,
  descopeProvider,
} from "./provider.js";
export {
  type DescopeNodeClient,
  type DescopeNodeManagementClient,
  type DescopeSession,
  type DescopeTenant,
  type FetchConnectionTokenOptions,
  fetchConnectionToken,
  getClient,
  getDescopeSession,
  getManagementClient,
  getSession,
  getUser,
} from "./session.js";
export { descopeWorker } from "./worker.js";
export type {
  WorkerModule,
  XmcpNext,
  XmcpNodeRequest,
  XmcpNodeResponse,
  XmcpWebMiddlewareContext,
} from "./xmcp.js";
