/**
 * The injection token of the core engine (`DescopeMcpAuth`) that `DescopeMcpAuthModule` provides:
 * `@Inject(DESCOPE_MCP_AUTH) auth: DescopeMcpAuth` (or `@InjectDescopeMcpAuth()`).
 */
export const DESCOPE_MCP_AUTH = Symbol.for("@descope-mcp/nest:auth");
