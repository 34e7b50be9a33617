import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  target: "es2022",
  platform: "node",
  removeNodeProtocol: false,
  external: ["@nestjs/common", "@nestjs/core", "rxjs", "@descope-mcp/core"],
});
