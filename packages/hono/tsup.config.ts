import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  target: "es2022",
  // Runs wherever Hono does (Node, workerd, Bun, Deno, Vercel Edge): nothing from Node is imported.
  platform: "neutral",
  removeNodeProtocol: false,
  external: ["hono", "@descope-mcp/core"],
});
