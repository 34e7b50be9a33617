import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/server.ts", "src/app.ts"],
  format: ["esm"],
  dts: false,
  clean: true,
  target: "es2022",
  platform: "node",
});
