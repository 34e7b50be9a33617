// pnpm bench: every benchmark in one run, with the ratios the targets are stated in.
import { spawnSync } from "node:child_process";
import { benchHttp } from "./http.mjs";
import { fmt, machine, table } from "./lib.mjs";
import { benchVerify } from "./verify.mjs";

const smoke = process.argv.includes("--smoke");
console.log(`# descope-mcp benchmarks${smoke ? " (smoke: tiny counts, numbers not meaningful)" : ""}`);
console.log(`\nMachine: ${machine()}`);

const verify = await benchVerify({ smoke });
const http = await benchHttp({ smoke });

const tokens = smoke ? 20_000 : 1_000_000;
const bound = smoke ? 5_000 : 10_000;
const child = spawnSync(
  process.execPath,
  ["--expose-gc", new URL("./memory.mjs", import.meta.url).pathname, String(tokens), String(bound)],
  {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  },
);
if (child.status !== 0) throw new Error("memory benchmark failed");
const memory = JSON.parse(child.stdout.trim().split("\n").at(-1));
const mib = (b) => (b / 2 ** 20).toFixed(1);
table(
  `5. Memory: ${tokens.toLocaleString("en-US")} distinct valid tokens through one engine (token cache bound ${bound.toLocaleString("en-US")}; after a full GC)`,
  ["tokens verified", "cache entries", "RSS MiB", "live JS heap MiB", "external MiB"],
  memory.samples.map((s) => [
    s.tokens.toLocaleString("en-US"),
    s.cache.toLocaleString("en-US"),
    mib(s.rss),
    mib(s.heap),
    mib(s.external),
  ]),
);
// Flat once the bound is reached: the live heap (what the engine retains) does not grow, and the
// resident set shows no trend (the later half of the samples against the earlier half; single RSS
// readings wander by tens of MiB as the allocator keeps or returns pages).
const afterBound = memory.samples.filter((s) => s.cache >= bound);
const heapGrowth = afterBound.length > 1 ? afterBound.at(-1).heap - afterBound[0].heap : 0;
const settled = afterBound.slice(1);
const mean = (xs) => xs.reduce((sum, s) => sum + s.rss, 0) / Math.max(1, xs.length);
const half = Math.floor(settled.length / 2);
const rssTrend = settled.length > 1 ? mean(settled.slice(half)) - mean(settled.slice(0, half)) : 0;

const checks = [
  [
    "1. repeated token vs @descope/node-sdk validateJwt",
    verify.repeated.core / verify.repeated.sdk,
    "≥ 100×",
    verify.repeated.core / verify.repeated.sdk >= 100,
  ],
  [
    "2. cold path vs bare jose",
    verify.cold.core / verify.cold.jose,
    "≥ 0.95×",
    verify.cold.core / verify.cold.jose >= 0.95,
  ],
  [
    "3a. JWKS fetches, 1,000 concurrent first requests",
    verify.fetches.coldFetches,
    "= 1",
    verify.fetches.coldFetches === 1,
  ],
  ["3b. JWKS fetches, 1,000 unknown kids", verify.fetches.kidFetches, "≤ 2", verify.fetches.kidFetches <= 2],
  ...Object.entries(http).flatMap(([framework, h]) => [
    [
      `4. HTTP ${framework}: with auth ÷ without`,
      h.auth.rps / h.noauth.rps,
      "≥ 0.9×",
      h.auth.rps / h.noauth.rps >= 0.9,
    ],
    ...(h.auth.cpuPerRequest && h.noauth.cpuPerRequest
      ? [
          [
            `4. HTTP ${framework}: server CPU per request, without ÷ with`,
            h.noauth.cpuPerRequest / h.auth.cpuPerRequest,
            "≥ 0.9×",
            h.noauth.cpuPerRequest / h.auth.cpuPerRequest >= 0.9,
          ],
        ]
      : []),
    [`4. HTTP ${framework}: errors + non-2xx`, h.auth.bad + h.noauth.bad, "= 0", h.auth.bad + h.noauth.bad === 0],
  ]),
  [
    "5a. live heap growth after the bound is reached (MiB)",
    heapGrowth / 2 ** 20,
    "flat (< 4 MiB)",
    heapGrowth < 4 * 2 ** 20,
  ],
  [
    "5b. RSS trend after the bound (later half − earlier half, MiB)",
    rssTrend / 2 ** 20,
    "flat (< 32 MiB)",
    rssTrend < 32 * 2 ** 20,
  ],
];
table(
  "Targets",
  ["benchmark", "measured", "target", "met"],
  checks.map(([name, value, target, ok]) => [
    name,
    Number.isInteger(value) ? value : fmt(value),
    target,
    ok ? "yes" : "NO",
  ]),
);
if (!smoke && checks.some((c) => !c[3])) process.exitCode = 1;
