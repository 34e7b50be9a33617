import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/node.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: false,
  target: "es2022",
  platform: "neutral",
  treeshake: true,
  // Keep `node:` specifiers as written (type-only today): bundlers for the edge treat `node:*` as the
  // runtime's own modules.
  removeNodeProtocol: false,
  external: [/^node:/],
});
