import { ConnectionDeniedError, ConnectionNotFoundError } from "@descope-mcp/core";
import { fetchConnectionToken } from "@descope-mcp/xmcp";
import type { ToolMetadata } from "xmcp";
import { CALENDAR_APP, CALENDAR_SCOPE, json, toolError, toolRan } from "../descope";

export const metadata: ToolMetadata = {
  name: "connection_status",
  description: "Whether the caller has connected Google Calendar (never returns the token).",
};

export default async function connectionStatus() {
  toolRan("connection_status");
  try {
    // A status check asks Descope every time (cache: false): a disconnect shows at once.
    await fetchConnectionToken(CALENDAR_APP, [CALENDAR_SCOPE], { cache: false });
    return json({ appId: CALENDAR_APP, connected: true });
  } catch (error) {
    if (error instanceof ConnectionNotFoundError) return json({ appId: CALENDAR_APP, connected: false });
    if (error instanceof ConnectionDeniedError)
      return toolError(`Access to ${CALENDAR_APP} was denied by Descope policy`);
    return toolError(`Could not check the ${CALENDAR_APP} connection: ${(error as Error).message}`);
  }
}
