import { ConfigurationError } from "@descope-mcp/core";
import { getUser } from "@descope-mcp/xmcp";
import type { ToolMetadata } from "xmcp";
import { json, toolError, toolRan } from "../descope";

export const metadata: ToolMetadata = {
  name: "profile",
  description: "The caller's Descope profile (needs DESCOPE_MANAGEMENT_KEY).",
};

export default async function profile() {
  toolRan("profile");
  try {
    const user = await getUser();
    return json({ userId: user.userId, email: user.email ?? null, name: user.name ?? null });
  } catch (error) {
    if (error instanceof ConfigurationError && error.field === "managementKey") {
      return toolError("The profile tool needs DESCOPE_MANAGEMENT_KEY to be configured on this server");
    }
    return toolError(`Could not load the profile: ${(error as Error).message}`);
  }
}
