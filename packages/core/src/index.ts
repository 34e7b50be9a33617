export {
  type AuthenticateOptions,
  createDescopeMcpAuth,
  createDescopeMcpAuthFromEnv,
  type DescopeMcpAuth,
  type GateInput,
  type GateOutcome,
  type HandleOptions,
  type McpRequestContext,
  type McpRequestHandler,
  type ProtectOptions,
} from "./auth.js";
export {
  type BodyHeaders,
  bodyForPolicy,
  byteLimit,
  checkBodyHeaders,
  DEFAULT_BODY_LIMIT,
  parseJsonBody,
} from "./body.js";
export { type AuthErrorResult, buildChallenge, type ChallengeParams, quoteHeaderValue } from "./challenge.js";
export { type AuthEvent, type DescopeMcpAuthOptions, ENV_VARS, type ResolvedOptions, type Timeouts } from "./config.js";
export type {
  ConnectionToken,
  GetTenantConnectionTokenParams,
  GetUserConnectionTokenParams,
} from "./connections.js";
export {
  ConfigurationError,
  ConnectionDeniedError,
  ConnectionNotFoundError,
  DescopeMcpError,
  type DescopeMcpErrorCode,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  type InvalidTokenErrorOptions,
  isDescopeMcpError,
  MethodNotAllowedError,
  NoSessionError,
  type OAuthErrorValue,
  PayloadTooLargeError,
  type RefusedTokenClaims,
  TokenExpiredError,
  UnauthorizedError,
  UpstreamError,
  UpstreamUnavailableError,
  UserNotFoundError,
} from "./errors.js";
export { isUnderMcpPath, MCP_METHODS, readRequestBytes, readWebBody } from "./gate.js";
export type { FetchLike } from "./http.js";
export {
  apiBaseForRegion,
  createIssuerMatcher,
  type DescopeIssuer,
  type IssuerInput,
  isProjectId,
  projectIdFromPath,
  regionOf,
  resolveIssuer,
} from "./issuer.js";
export type { DescopeUser } from "./management.js";
export {
  AS_WELL_KNOWN,
  MCP_CORS_HEADERS,
  MCP_PREFLIGHT,
  PRM_WELL_KNOWN,
  type ProtectedResourceMetadata,
  prmPathFor,
} from "./metadata.js";
export { type AuthenticateInput, extractBearerToken } from "./request.js";
export {
  hasScopes,
  missingScopes,
  requireScopes,
  SCOPE_TOKEN,
  type ScopeHolder,
  scopeCovers,
  scopesForRequest,
  scopesFromClaims,
  type ToolCall,
  toolCallsIn,
} from "./scopes.js";
export { type DescopeSession, type McpAuthInfo, sessionFromClaims, type TenantAccess, toAuthInfo } from "./session.js";
export {
  enableSessionContext,
  getSession,
  requireSession,
  runWithSession,
  type SessionSource,
} from "./session-store.js";
