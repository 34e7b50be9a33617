// The example's configuration, without the MCP SDK: what the workerd launcher checks on Node
// before it starts workerd (scripts/workerd.mjs), and what the app uses.
import { ConfigurationError, createDescopeMcpAuthFromEnv, type DescopeMcpAuth } from "@descope-mcp/core";

/** The example's policy: `write_note` needs `notes:write`; clients start with the basic scopes. */
export const POLICY = {
  toolScopes: { write_note: ["notes:write"] },
  challengeScopes: ["openid", "outbound.token.fetch"],
  scopesSupported: ["openid", "outbound.token.fetch", "notes:write"],
  resourceName: "descope-mcp Hono example",
};

/** The environment this app reads (process.env on Node, Bun and Deno; the Worker's `env` on Cloudflare). */
export type ExampleEnv = Record<string, string | undefined>;

/** The port to listen on: `PORT`, default 3001 (a `ConfigurationError` naming PORT otherwise). */
export function portFrom(env: ExampleEnv): number {
  const text = env.PORT ?? "3001";
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new ConfigurationError(`PORT must be a port number (0-65535), got "${text}"`, "PORT");
  }
  return port;
}

/** The engine the app will build from `env`: validates every variable (a `ConfigurationError` naming it). */
export function engineFrom(env: ExampleEnv): DescopeMcpAuth {
  return createDescopeMcpAuthFromEnv(env, POLICY);
}
