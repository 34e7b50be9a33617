import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  target: "es2022",
  // Runtime-neutral: the same build runs in xmcp's Node bundle and in its Cloudflare worker.
  platform: "neutral",
  removeNodeProtocol: false,
  shims: true,
  external: ["@descope-mcp/core", "@descope-mcp/core/node", "@descope/node-sdk"],
});
