// What both launchers check before starting anything, so a bad configuration exits with one clear
// line (the contract), instead of a stack trace from inside xmcp's bundle or workerd.
import { createDescopeMcpAuthFromEnv, DescopeMcpError } from "@descope-mcp/core";

export function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

/** Validates PORT and the Descope settings; returns the port and the engine's resolved config. */
export function checkEnvironment(env = process.env) {
  const portText = env.PORT ?? "3001";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535)
    fail(`PORT must be a port number (0-65535), got "${portText}"`);
  try {
    return { port, config: createDescopeMcpAuthFromEnv(env).config };
  } catch (error) {
    if (error instanceof DescopeMcpError) fail(error.message);
    throw error;
  }
}
