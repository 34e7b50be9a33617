import { defineConfig } from "tsup";

const shared = {
  sourcemap: false,
  target: "es2022",
  platform: "node",
  treeshake: true,
  // Keep `node:` specifiers as written (tsup strips them by default).
  removeNodeProtocol: false,
} as const;

export default defineConfig([
  {
    ...shared,
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    // cli.js comes from the second build, which may finish first: never clean it here.
    clean: ["**/*", "!cli.js"],
  },
  {
    ...shared,
    entry: ["src/cli.ts"],
    format: ["esm"],
    dts: false,
    clean: false,
  },
]);
