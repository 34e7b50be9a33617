// In a Next.js app this file holds the `mcp` handler of the recipes' mcp.ts (see the core README).
export { mcp } from "../../mcp.ts";
