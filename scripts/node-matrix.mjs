#!/usr/bin/env node
// Node runtime matrix: the README's test command (`npx -y pnpm@<version> test`) on other Node versions,
// each installed from the npm registry as `node-<platform>-<arch>@<version>` and put first on PATH.
//
//   node scripts/node-matrix.mjs [version …]
//
// Versions: the arguments, else NODE_MATRIX_VERSIONS (space-separated), else the lowest Node the root
// package.json's `engines.node` admits and Node 24 (DEFAULT_LATEST). Each leg, in the repository as
// installed once (`pnpm install` on the machine's Node; nothing is reinstalled per Node):
//   1. install the Node binary into a temporary directory (npm's cache makes a rerun a copy);
//   2. `pnpm install --frozen-lockfile --offline` on that Node: pnpm itself runs there and finds the
//      install valid as it is (no network, nothing rebuilt);
//   3. the binary dependencies load on that Node: every N-API addon built for this platform in
//      node_modules/.pnpm (rollup, rolldown, lightningcss, …), esbuild's JS API driving its binary, and
//      the `--version` of each binary wrapper found (esbuild, turbo, biome, workerd);
//   4. the README's test command, with a NODE_OPTIONS preload that records the version of every Node
//      process it starts (pnpm, turbo's tasks, tsup, vitest and its workers, the example servers): all
//      must be the leg's version.
//
// NODE_MATRIX_REUSE_BUILD (default 1): the legs reuse the build of the machine's Node through turbo's
// cache, so `pnpm test`'s `turbo run build` replays it (build outputs do not depend on the Node that
// produced them) and step 3 stands in for running esbuild/rollup in a build. 0: every leg rebuilds every
// package under its Node (TURBO_FORCE=true) — slower, and the build tools then run for real on each Node.
// Running the legs side by side was measured and rejected: on 2 cores it was slower than one after the
// other and made timing-sensitive tests fail.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { installNode, minVersion } from "./lib/node-binary.mjs";
import { cleanEnv, run, seconds, stopAll } from "./lib/proc.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_LATEST = "24.22.3";
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const pnpmSpec = manifest.packageManager ?? "pnpm@10";
const lowest = minVersion(manifest.engines?.node ?? "");
// This script's settings (documented above); turbo never runs it, so it declares none of them.
const { NODE_MATRIX_VERSIONS, NODE_MATRIX_REUSE_BUILD, NODE_OPTIONS = "" } = process.env;
const versions =
  process.argv.length > 2
    ? process.argv.slice(2)
    : (NODE_MATRIX_VERSIONS?.split(/\s+/).filter(Boolean) ?? [lowest, DEFAULT_LATEST].filter(Boolean));
const reuseBuild = NODE_MATRIX_REUSE_BUILD !== "0";
const work = mkdtempSync(join(tmpdir(), "descope-mcp-node-matrix-"));
const cleanup = () => {
  stopAll();
  rmSync(work, { recursive: true, force: true });
};
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

// What runs inside the test command's Node processes: one line per process.
// The file's path is written into the preload: turbo passes NODE_OPTIONS to its tasks but not variables it
// does not know. It never throws, so it cannot change what a process does.
const recorder = (file) =>
  `try { require("node:fs").appendFileSync(${JSON.stringify(file)}, process.version + " " + process.execPath + "\\n"); } catch {}\n`;

/** The platform's N-API addons among the installed packages (`main` is a `.node` file). */
function nativeAddons() {
  const store = join(ROOT, "node_modules", ".pnpm");
  const platform = `${process.platform}-${process.arch}`;
  const addons = [];
  for (const entry of existsSync(store) ? readdirSync(store) : []) {
    if (!entry.includes(platform)) continue;
    const modules = join(store, entry, "node_modules");
    for (const scopeOrName of readdirSync(modules)) {
      const dirs = scopeOrName.startsWith("@")
        ? readdirSync(join(modules, scopeOrName)).map((name) => join(modules, scopeOrName, name))
        : [join(modules, scopeOrName)];
      for (const dir of dirs) {
        const pkg = join(dir, "package.json");
        if (!existsSync(pkg)) continue;
        const { name, main } = JSON.parse(readFileSync(pkg, "utf8"));
        if (name.includes(platform) && typeof main === "string" && main.endsWith(".node")) addons.push({ name, dir });
      }
    }
  }
  return addons;
}

/** Binary wrappers (a JS launcher for a native executable) in the root's and the workspaces' node_modules/.bin. */
function binaryWrappers() {
  const wanted = ["esbuild", "turbo", "biome", "workerd"];
  const found = new Map();
  const dirs = [ROOT];
  for (const group of ["packages", "examples"]) {
    if (!existsSync(join(ROOT, group))) continue;
    for (const name of readdirSync(join(ROOT, group))) dirs.push(join(ROOT, group, name));
  }
  for (const dir of dirs) {
    for (const bin of wanted) {
      const path = join(dir, "node_modules", ".bin", bin);
      if (!found.has(bin) && existsSync(path)) found.set(bin, path);
    }
  }
  return found;
}

/** esbuild as tsup loads it. */
function esbuildPath() {
  const fromRoot = createRequire(join(ROOT, "package.json"));
  try {
    return createRequire(fromRoot.resolve("tsup/package.json")).resolve("esbuild");
  } catch {
    return undefined;
  }
}

async function leg(version) {
  const times = {};
  const fail = (step, detail) => ({ version, ok: false, step, detail, times });
  let t = performance.now();
  let binDir;
  try {
    binDir = await installNode(version, join(work, version));
  } catch (error) {
    return fail("install Node", error.message);
  }
  times.node = performance.now() - t;
  const base = cleanEnv(ROOT);
  const env = { ...base, PATH: `${binDir}${delimiter}${base.PATH}` };
  const node = join(binDir, "node");
  console.log(`\n== Node ${version} (${binDir}): binary ${seconds(times.node)}`);

  t = performance.now();
  const install = await run("npx", ["--yes", pnpmSpec, "install", "--frozen-lockfile", "--offline"], {
    cwd: ROOT,
    env,
    timeoutMs: 600_000,
  });
  times.install = performance.now() - t;
  if (install.code !== 0) return fail("pnpm install", install.stderr || install.stdout);
  const upToDate = /Already up to date/.test(install.stdout);
  console.log(
    `   pnpm install --frozen-lockfile --offline on Node ${version}: ${upToDate ? "already up to date, nothing reinstalled" : "ok, pnpm relinked"} (${seconds(times.install)})`,
  );

  t = performance.now();
  const problems = [];
  const addons = nativeAddons();
  const esbuild = esbuildPath();
  const probe = `
    const out = [];
    for (const { name, dir } of ${JSON.stringify(addons)}) {
      try { require(dir); out.push("ok " + name); } catch (e) { out.push("FAIL " + name + ": " + e.message); }
    }
    ${esbuild ? `try { const r = require(${JSON.stringify(esbuild)}).transformSync("const a: number = 1", { loader: "ts" }); out.push(r.code.includes("const a = 1") ? "ok esbuild " + require(${JSON.stringify(esbuild)}).version : "FAIL esbuild: " + r.code); } catch (e) { out.push("FAIL esbuild: " + e.message); }` : ""}
    console.log(out.join("\\n"));`;
  const loaded = await run(node, ["-e", probe], { cwd: ROOT, env, timeoutMs: 60_000 });
  const lines = loaded.stdout.trim().split("\n").filter(Boolean);
  if (loaded.code !== 0) problems.push(`native probe exited ${loaded.code}: ${loaded.stderr.trim()}`);
  problems.push(...lines.filter((line) => line.startsWith("FAIL")));
  const wrappers = [];
  for (const [bin, path] of binaryWrappers()) {
    // pnpm's .bin entries are shell launchers that run `node` from PATH: the leg's Node.
    const result = await run(path, ["--version"], { cwd: ROOT, env, timeoutMs: 60_000 });
    if (result.code === 0) wrappers.push(`${bin} ${result.stdout.trim().split("\n").pop()}`);
    else problems.push(`FAIL ${bin} --version: ${(result.stderr || result.stdout).trim()}`);
  }
  times.binaries = performance.now() - t;
  if (problems.length > 0) return fail("binary dependencies", problems.join("\n"));
  console.log(
    `   binary dependencies on Node ${version}: ${lines.map((l) => l.slice(3)).join(", ")}; ${wrappers.join(", ")} (${seconds(times.binaries)})`,
  );

  const record = join(work, `${version}.processes`);
  const preload = join(work, `record-node-${version}.cjs`);
  writeFileSync(preload, recorder(record));
  writeFileSync(record, "");
  const command = ["--yes", pnpmSpec, "test"];
  console.log(
    `   npx ${command.join(" ")}${reuseBuild ? "" : " (TURBO_FORCE=true: every package rebuilt on this Node)"}`,
  );
  t = performance.now();
  const test = await run("npx", command, {
    cwd: ROOT,
    env: {
      ...env,
      NODE_OPTIONS: `${NODE_OPTIONS} --require "${preload}"`.trim(),
      ...(reuseBuild ? {} : { TURBO_FORCE: "true" }),
    },
    timeoutMs: 3_600_000,
    inherit: true,
  });
  times.test = performance.now() - t;
  if (test.code !== 0) return fail("test", `the README's test command exited ${test.code} (output above)`);
  const processes = readFileSync(record, "utf8").trim().split("\n").filter(Boolean);
  const others = processes.filter((line) => !line.startsWith(`v${version} `));
  if (others.length > 0) return fail("versions", `processes on another Node:\n${[...new Set(others)].join("\n")}`);
  console.log(`   ${processes.length} Node processes, all v${version}`);
  return { version, ok: true, times, processes: processes.length };
}

const started = performance.now();
const results = [];
try {
  console.log(
    `node matrix: ${versions.join(", ")} (${reuseBuild ? "build reused through turbo's cache" : "rebuilt per Node"}; machine Node ${process.version})`,
  );
  for (const version of versions) results.push(await leg(version));
} finally {
  cleanup();
}
console.log("\nnode matrix summary:");
for (const r of results) {
  const times = Object.entries(r.times)
    .map(([k, ms]) => `${k} ${seconds(ms)}`)
    .join(", ");
  console.log(`  ${r.ok ? "ok  " : "FAIL"} Node ${r.version}: ${times}${r.ok ? "" : ` — ${r.step} failed`}`);
  if (!r.ok) console.log(r.detail.replace(/^/gm, "      "));
}
console.log(`  total ${seconds(performance.now() - started)}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
