import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Every test binds its own random port on 127.0.0.1, so files run in parallel safely. Most of the suite
// waits on child processes and sockets (examples, emulators, time-boxes), not on this process's CPU: three
// workers even on two cores (vitest's default, one fewer than the cores, runs a 2-core machine serially).
const common = { testTimeout: 30_000, hookTimeout: 30_000, fileParallelism: true, maxWorkers: 3 };

export default defineConfig({
  test: {
    // Once per run, on Node: the control server through which tests in both projects start their
    // Descope emulators (a test inside workerd cannot listen on a port itself).
    globalSetup: ["./test/edge/global-setup.ts"],
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**/*.ts"],
      reporter: ["text-summary", "text"],
    },
    projects: [
      {
        // `@/` is the Next.js recipe's import alias (test/recipes/next).
        resolve: { alias: { "@/": fileURLToPath(new URL("./test/recipes/next/", import.meta.url)) } },
        test: {
          ...common,
          name: "node",
          include: ["packages/*/test/**/*.test.ts", "examples/*/test/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/*.workerd.test.ts"],
        },
      },
      {
        // The same runtime-neutral tests again, inside workerd (Cloudflare Workers' runtime): the
        // core's pure unit tests and every `*.edge.test.ts` (the Web gate, upstream calls, the Hono
        // adapter); `*.workerd.test.ts` run only here (the Worker recipes).
        plugins: [
          cloudflareTest({ miniflare: { compatibilityDate: "2025-09-01", compatibilityFlags: ["nodejs_compat"] } }),
        ],
        test: {
          ...common,
          name: "workerd",
          include: [
            "packages/core/test/{challenge,config,issuer,request,scopes,session}.test.ts",
            "packages/*/test/**/*.edge.test.ts",
            "packages/*/test/**/*.workerd.test.ts",
            "test/**/*.edge.test.ts",
            "test/**/*.workerd.test.ts",
          ],
        },
      },
    ],
  },
});
