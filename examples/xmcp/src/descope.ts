import type { AuthEvent, DescopeMcpAuthOptions } from "@descope-mcp/core";

export const CALENDAR_APP = "google-calendar";
export const CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.readonly";

/** The example's policy: `write_note` needs `notes:write`; clients start with the basic scopes. */
export const POLICY = {
  toolScopes: { write_note: ["notes:write"] },
  challengeScopes: ["openid", "outbound.token.fetch"],
  scopesSupported: ["openid", "outbound.token.fetch", "notes:write"],
  resourceName: "descope-mcp xmcp example",
  // What @xmcp-dev/descope answered for expired tokens (descopeProvider's default for options; an
  // engine made here must say so itself).
  expiredTokenError: "token_expired",
} satisfies Partial<DescopeMcpAuthOptions>;

const env = (): Record<string, string | undefined> =>
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};

/**
 * `AUDIT_LOG=1` prints one line per gate decision (`audit allow 200 ok`, `audit deny 403
 * insufficient_scope tools=write_note`) and per tool run (`tool write_note ran`): what black-box
 * tests observe to prove a refused tool never ran. Never a token.
 */
export function auditHook(): { onEvent?: (event: AuthEvent) => void } {
  if (env().AUDIT_LOG !== "1") return {};
  return {
    onEvent: (e) =>
      console.log(`audit ${e.type} ${e.status} ${e.reason}${e.tools ? ` tools=${e.tools.join(",")}` : ""}`),
  };
}

/** Prints `tool <name> ran` when `AUDIT_LOG=1`. */
export function toolRan(name: string): void {
  if (env().AUDIT_LOG === "1") console.log(`tool ${name} ran`);
}

/** A tool answer: one text item holding JSON. */
export const json = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] });

/** A tool error with a message for the caller. */
export const toolError = (message: string) => ({ content: [{ type: "text" as const, text: message }], isError: true });
