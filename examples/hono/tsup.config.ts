import { defineConfig } from "tsup";

export default defineConfig([
  // Node: dist/server.js (and dist/app.js for the benchmark, dist/config.js for the workerd launcher).
  {
    entry: ["src/server.ts", "src/app.ts", "src/config.ts"],
    format: ["esm"],
    dts: false,
    clean: false,
    target: "es2022",
    platform: "node",
  },
  // Cloudflare Workers: dist/worker.js, one self-contained ES module (what workerd loads).
  {
    entry: ["src/worker.ts"],
    format: ["esm"],
    dts: false,
    clean: false,
    target: "es2022",
    platform: "neutral",
    // Everything is bundled except the runtime's own modules (`cloudflare:workers`, `node:*`).
    noExternal: [/^(?!cloudflare:|node:)/],
    external: [/^node:/, /^cloudflare:/],
    esbuildOptions(options) {
      options.conditions = ["workerd", "worker", "browser", "import", "default"];
      options.mainFields = ["module", "main"];
    },
  },
]);
