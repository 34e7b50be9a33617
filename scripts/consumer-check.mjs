#!/usr/bin/env node
// Consumer check: what a user meets from `npm install` on, run against the packed tarballs.
//
// `pnpm consumer-check` (builds first) or `node scripts/consumer-check.mjs` after `pnpm build`; .ci/run
// runs it after the build. Every public package (each packages/* whose package.json is not `private`, as
// scripts/packages.mjs lists them) is packed with `pnpm pack` and then, in fresh temporary projects
// outside the repository:
//
//   tarballs      each tarball holds package.json, README.md, a LICENSE when a license is declared, every
//                 file its exports/main/module/types/bin name, and no `workspace:` range.
//   entry points  one npm project with every tarball, the peer dependencies the packages require (not the
//                 optional ones: a user who does not use them has none; each peer without its own types
//                 gets its DefinitelyTyped `@types/<peer>`, as a TypeScript user adds it) and `@types/node`
//                 for the lowest Node the packages support. Every public entry point (the `exports` map,
//                 `./package.json` left out) is imported from an ESM consumer (`type: module`) and required
//                 from a CommonJS one (when it has a `require` condition), on this Node and on the lowest
//                 Node each package's `engines.node` admits (`node-<platform>-<arch>@<version>` from the
//                 npm registry), and type-checked with TypeScript 5.9 and 6.0, `strict`, `skipLibCheck:
//                 false`: `node16` (the ESM and the CommonJS consumer in one program, each file's format
//                 from its package.json) and `bundler` with `module: preserve` (`import` and
//                 `import x = require()`).
//   README        per package, a fresh npm project installed exactly by the README's install line (plus
//                 `typescript`, nothing else), where the quick start is type-checked as written (TS 6.0,
//                 `node16`, ESM, `skipLibCheck: false`); and one pnpm workspace with one such project per
//                 README (pnpm's strict layout: only what the install line names is importable), where the
//                 quick start is type-checked again (TS 5.9, `bundler`, `skipLibCheck: true` as `tsc --init`
//                 writes it), every `@descope-mcp/*` module any TypeScript block of the README imports must
//                 resolve, and an adapter's user must reach the core's errors and `create…FromEnv` factory
//                 (from `@descope-mcp/core` if the install line names it, else from the adapter itself).
//   real run      the Express quick start as written, from the tarballs, served for real: the packed
//                 `@descope-mcp/testing` emulator (its `descope-emulator` CLI), and the official MCP
//                 client v2 from npm with `HeadlessOAuthClient` (type-checked as the SDK's authProvider)
//                 driving 401 → discovery → registration → authorize → token → tools/call. It runs in a
//                 private network namespace when `unshare` allows (the quick start's fixed port is then
//                 free and parallel runs cannot collide).
//
// README markers (the contract with the docs):
//   - `## Install`: every `npm i|install|add …` line of its ```sh fences (without that section: the first
//     such fence before the quick start) is run as written, in order (shell comments dropped), with our
//     package names replaced by their tarballs. A README without one fails; its checks then go on with
//     `npm i <package>`, which is what a reader would guess.
//   - `## Quick start…` (a level-2 heading that starts with "Quick start"): the first ```ts fence under it
//     is the package's quick start. It must type-check as written with only the install line installed:
//     every import present, every name declared. A README without one fails.
//
// Only the npm registry is used, through npm's cache (shared by every project and by reruns; set
// CONSUMER_CHECK_NPM_CACHE to use another; CONSUMER_CHECK_PREFER_OFFLINE=1 skips npm's metadata
// revalidation for a faster local rerun, at the price of possibly stale "latest" versions) and pnpm's
// store. Temporary directories are removed at the end (CONSUMER_CHECK_KEEP=1 keeps them and prints where).
// Prints one line per check and a summary; exits 1 on any failure.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { installNode, minVersion } from "./lib/node-binary.mjs";
import { cleanEnv, run, seconds, semaphore, stopAll } from "./lib/proc.mjs";
import { publicPackages, ROOT } from "./packages.mjs";

// This script's settings (documented above); turbo never runs it, so it declares none of them.
const { CONSUMER_CHECK_KEEP, CONSUMER_CHECK_NPM_CACHE, CONSUMER_CHECK_PREFER_OFFLINE } = process.env;
const KEEP = CONSUMER_CHECK_KEEP === "1";
const TYPESCRIPT = { "6.0": "~6.0", 5.9: "~5.9" };
/** Quick starts run for real (the others are type-checked). */
const RUN_FOR_REAL = ["@descope-mcp/express"];
/** The official MCP client the real run drives. */
const MCP_CLIENT = "@modelcontextprotocol/client@^2";

const started = performance.now();
const work = mkdtempSync(join(tmpdir(), "descope-mcp-consumer-"));
const env = cleanEnv(ROOT, {
  ...(CONSUMER_CHECK_NPM_CACHE ? { npm_config_cache: CONSUMER_CHECK_NPM_CACHE } : {}),
  npm_config_update_notifier: "false",
});
const installs = semaphore(3);
const compiles = semaphore(2);

// ---------------------------------------------------------------------------------------------------------
// Results

const results = [];
class Failure extends Error {
  constructor(message, { detail, hint } = {}) {
    super(message);
    this.detail = detail;
    this.hint = hint;
  }
}
const indent = (text, max = 40) => {
  const lines = String(text).trimEnd().split("\n");
  const shown = lines.length > max ? [...lines.slice(0, max), `… ${lines.length - max} more lines`] : lines;
  return shown.map((line) => `      ${line}`).join("\n");
};
function record(name, ok, ms, { detail, hint, note } = {}) {
  results.push({ name, ok, ms, detail, hint });
  const line = `  ${ok ? "ok  " : "FAIL"} ${name}${note ? ` — ${note}` : ""} (${seconds(ms)})`;
  const extra = ok ? "" : `${detail ? `\n${indent(detail)}` : ""}${hint ? `\n      → ${hint}` : ""}`;
  console.log(line + extra);
}
/** Runs one named check; a thrown error fails it. Returns what `fn` returned (undefined on failure). */
async function check(name, fn) {
  const t = performance.now();
  try {
    const value = await fn();
    record(name, true, performance.now() - t, { note: value?.note });
    return value ?? {};
  } catch (error) {
    record(name, false, performance.now() - t, {
      detail: error instanceof Failure ? (error.detail ?? error.message) : (error?.stack ?? String(error)),
      hint: error?.hint,
    });
    return undefined;
  }
}
const phases = [];
async function phase(name, fn) {
  const t = performance.now();
  const value = await fn();
  phases.push([name, performance.now() - t]);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// The packages, their entry points and their READMEs

const rootManifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const packages = publicPackages().map((pkg) => {
  const readmePath = join(pkg.dir, "README.md");
  return {
    dir: basename(pkg.dir),
    path: pkg.dir,
    manifest: pkg.manifest,
    name: pkg.name,
    readme: existsSync(readmePath) ? readFileSync(readmePath, "utf8") : "",
  };
});
const ours = new Set(packages.map((pkg) => pkg.name));
const CORE = "@descope-mcp/core";

/** Every condition name used anywhere under an `exports` value. */
function conditionsOf(value, into = new Set()) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) {
      into.add(key);
      conditionsOf(inner, into);
    }
  } else if (Array.isArray(value)) {
    for (const inner of value) conditionsOf(inner, into);
  }
  return into;
}

/** The public entry points: `{ spec, esm, cjs }` for each `exports` subpath but `./package.json`. */
function entryPoints(manifest) {
  let exports = manifest.exports ?? { ".": manifest.main ?? "./index.js" };
  if (typeof exports === "string" || Array.isArray(exports) || !Object.keys(exports).some((k) => k.startsWith("."))) {
    exports = { ".": exports };
  }
  return Object.entries(exports)
    .filter(([subpath]) => subpath !== "./package.json" && !subpath.includes("*"))
    .map(([subpath, target]) => {
      const conditions = conditionsOf(target);
      const plain = typeof target === "string";
      return {
        spec: subpath === "." ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
        esm: plain || conditions.has("import") || conditions.has("default") || conditions.has("node"),
        cjs: plain || conditions.has("require"),
      };
    });
}

/** Every relative file a manifest points at (exports leaves, main, module, types, bin). */
function filesNamed(manifest) {
  const files = new Set();
  const walk = (value) => {
    if (typeof value === "string") {
      if (value.startsWith("./") && !value.includes("*")) files.add(value.slice(2));
    } else if (value && typeof value === "object") {
      for (const inner of Object.values(value)) walk(inner);
    }
  };
  walk(manifest.exports);
  for (const field of ["main", "module", "types", "typings"]) {
    if (typeof manifest[field] === "string") files.add(manifest[field].replace(/^\.\//, ""));
  }
  const bin = typeof manifest.bin === "string" ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const target of Object.values(bin)) files.add(target.replace(/^\.\//, ""));
  return [...files];
}

/** Level-2 sections of a Markdown file: `[{ heading, body }]` (headings inside code fences ignored). */
function sections(markdown) {
  const out = [];
  let current;
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (!fenced && /^##\s/.test(line)) {
      current = { heading: line.replace(/^##\s+/, "").trim(), body: [] };
      out.push(current);
    } else if (current) {
      current.body.push(line);
    }
  }
  return out.map((section) => ({ ...section, body: section.body.join("\n") }));
}

/** The fenced code blocks of a Markdown text: `[{ lang, code }]`. */
function fences(markdown) {
  const out = [];
  const re = /^[ \t]*(```|~~~)[ \t]*([\w-]*)[^\n]*\n([\s\S]*?)^[ \t]*\1[ \t]*$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) out.push({ lang: m[2].toLowerCase(), code: m[3] });
  return out;
}

const TS_LANGS = new Set(["ts", "typescript", "mts", "cts"]);
const SH_LANGS = new Set(["sh", "bash", "shell", "console", "zsh", ""]);

/** What the README gives a reader: the install commands, the quick start, every module it imports. */
function readmeOf(pkg) {
  const all = sections(pkg.readme);
  const npmLines = (code) =>
    code
      .split("\n")
      .map((line) => line.replace(/(^|\s)#.*$/, "")) // shell comments
      .flatMap((line) => line.replace(/^\s*\$\s*/, "").split("&&"))
      .map((line) => line.trim().split(/\s+/))
      .filter((words) => words[0] === "npm" && ["i", "install", "add"].includes(words[1]))
      .map((words) => words.slice(2));
  const shFences = (markdown) => fences(markdown).filter((f) => SH_LANGS.has(f.lang));
  const quickAt = pkg.readme.search(/^##\s+Quick start\b/im);
  const install = all.find((s) => /^Install(ation)?\b/i.test(s.heading));
  // Every npm line of the "## Install" section (a reader following it runs them all), else the first
  // npm install block before the quick start (what a reader meets first).
  const fromSection = install ? shFences(install.body).flatMap((f) => npmLines(f.code)) : [];
  const installLines =
    fromSection.length > 0
      ? fromSection
      : (shFences(quickAt >= 0 ? pkg.readme.slice(0, quickAt) : "")
          .map((f) => npmLines(f.code))
          .find((lines) => lines.length > 0) ?? []);
  const quick = all.find((s) => /^Quick start\b/i.test(s.heading));
  const quickFence = quick && fences(quick.body).find((f) => TS_LANGS.has(f.lang));
  const imports = new Set();
  for (const fence of fences(pkg.readme).filter((f) => TS_LANGS.has(f.lang))) {
    for (const m of fence.code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"'./][^"']*)["']/g)) {
      if (!m[1].startsWith("node:")) imports.add(m[1]);
    }
  }
  return {
    hasInstall: installLines.length > 0,
    installLines: installLines.length > 0 ? installLines : [[pkg.name]],
    quickStart: quickFence?.code,
    quickHeading: quick?.heading,
    imports: [...imports],
  };
}

/** `@scope/name/sub` → `@scope/name`; `name@^1` → `{ name, range }`. */
const packageOf = (specifier) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
function splitSpec(word) {
  const at = word.indexOf("@", word.startsWith("@") ? 1 : 0);
  return at > 0 ? { name: word.slice(0, at), range: word.slice(at + 1) } : { name: word, range: undefined };
}

/** A hint for the usual TypeScript failures of a README quick start. */
function hintFor(output) {
  const hints = new Set();
  for (const m of output.matchAll(/Could not find a declaration file for module '([^']+)'/g)) {
    if (!ours.has(packageOf(m[1])))
      hints.add(`the install line lacks @types/${packageOf(m[1]).replace(/^@(.*)\//, "$1__")}`);
  }
  if (
    /Cannot find name '(process|Buffer|__dirname|require)'|node:[a-z]+'|type definition file for 'node'/.test(output)
  ) {
    hints.add("the install line lacks @types/node");
  }
  for (const m of output.matchAll(/Cannot find module '([^']+)'/g)) {
    if (!m[1].startsWith("node:")) hints.add(`${packageOf(m[1])} is imported but not installed by the install line`);
  }
  for (const m of output.matchAll(/^(?:quickstart|client)\.ts\(\d+,\d+\): error TS2304: Cannot find name '(\w+)'/gm)) {
    hints.add(`\`${m[1]}\` is used without being imported or declared`);
  }
  return hints.size > 0 ? [...hints].join("; ") : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Tools

const pnpmVersion = /^pnpm@(.+)$/.exec(rootManifest.packageManager ?? "")?.[1] ?? "10";
const localPnpm = join(ROOT, "node_modules", "pnpm", "bin", "pnpm.cjs");
const pnpm = (args, options) =>
  existsSync(localPnpm)
    ? run(process.execPath, [localPnpm, ...args], options)
    : run("npx", ["--yes", `pnpm@${pnpmVersion}`, ...args], options);
const PREFER_OFFLINE = CONSUMER_CHECK_PREFER_OFFLINE === "1" ? ["--prefer-offline"] : [];
const npm = (args, cwd) =>
  installs(() =>
    run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error", ...PREFER_OFFLINE], {
      cwd,
      env,
      timeoutMs: 600_000,
    }),
  );
const writeJSON = (path, value) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
};
const must = (result, what) => {
  if (result.code !== 0) {
    throw new Failure(what, {
      detail: `${what} failed (exit ${result.code}):\n${(result.stderr || result.stdout).trim()}`,
    });
  }
  return result;
};

function tsconfig({ module, moduleResolution, esm, files, typesNode, outDir, skipLibCheck = false, decorators }) {
  return {
    compilerOptions: {
      // What `nest new` sets: Nest's parameter decorators exist only as TypeScript's legacy decorators.
      ...(decorators ? { experimentalDecorators: true, emitDecoratorMetadata: true } : {}),
      target: "es2022",
      module,
      moduleResolution,
      strict: true,
      skipLibCheck,
      types: typesNode ? ["node"] : [],
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      isolatedModules: true,
      moduleDetection: "force",
      ...(esm ? { verbatimModuleSyntax: true } : {}),
      ...(outDir ? { outDir, noEmitOnError: false } : { noEmit: true }),
    },
    files,
  };
}
const TS_NODE16 = { module: "node16", moduleResolution: "node16" };
const TS_NODE20 = { module: "node20", moduleResolution: "node16" };
/** A package for a framework written with TypeScript's legacy decorators (Nest): its quick start needs them on. */
const usesDecorators = (pkg) => "@nestjs/common" in (pkg.manifest.peerDependencies ?? {});
/** Packages whose framework peer's newest major is ESM-only (see the CommonJS type checks). */
const REQUIRE_ESM_PACKAGES = ["@descope-mcp/nest"];
const TS_BUNDLER = { module: "esnext", moduleResolution: "bundler" };
const TS_PRESERVE = { module: "preserve", moduleResolution: "bundler" };

/** Runs `tsc -p <config>` from the project's `typescriptPackage` (`typescript` or an alias). */
function tsc(projectDir, typescriptPackage, config) {
  return compiles(() =>
    run(
      process.execPath,
      [join(projectDir, "node_modules", typescriptPackage, "bin", "tsc"), "-p", config, "--pretty", "false"],
      {
        cwd: dirname(config),
        env,
        timeoutMs: 300_000,
      },
    ),
  );
}
async function typeCheck(projectDir, typescriptPackage, config) {
  const result = await tsc(projectDir, typescriptPackage, config);
  if (result.code !== 0 || result.timedOut) {
    const output = (result.stdout + result.stderr).trim();
    throw new Failure("type errors", { detail: output || `tsc exited ${result.code}`, hint: hintFor(output) });
  }
}

const overrides = {};
const tarballs = new Map();

/**
 * `npm install <words>` in a project, our packages replaced by their tarballs. npm's `overrides` send
 * every other mention of our packages (an adapter's dependency on the core) to the tarballs too; npm
 * refuses an override for a direct dependency, so those are left out of it.
 */
async function npmInstall(dir, words, what = `npm install ${words.join(" ")}`) {
  const manifestPath = join(dir, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  const direct = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.devDependencies ?? {}),
    ...words.filter((w) => !w.startsWith("-")).map((w) => splitSpec(w).name),
  ]);
  manifest.overrides = Object.fromEntries(Object.entries(overrides).filter(([name]) => !direct.has(name)));
  writeJSON(manifestPath, manifest);
  const args = words.map((word) => (word.startsWith("-") ? word : (tarballs.get(splitSpec(word).name) ?? word)));
  return must(await npm(["install", ...args], dir), what);
}

/** npm resolved every `@descope-mcp/*` package of a project from the tarballs, never from a registry. */
function assertFromTarballs(projectDir) {
  const lock = JSON.parse(readFileSync(join(projectDir, "package-lock.json"), "utf8"));
  const wrong = Object.entries(lock.packages ?? {})
    .filter(([path]) => ours.has(path.replace(/^.*node_modules\//, "")))
    .filter(([, entry]) => !String(entry.resolved ?? "").startsWith("file:"))
    .map(([path, entry]) => `${path} from ${entry.resolved}`);
  if (wrong.length > 0) throw new Failure("not from the tarballs", { detail: wrong.join("\n") });
}

// ---------------------------------------------------------------------------------------------------------
// The checks

async function packAll() {
  const dest = join(work, "tarballs");
  mkdirSync(dest, { recursive: true });
  await Promise.all(
    packages.map((pkg) =>
      check(`pack ${pkg.name}`, async () => {
        const result = must(
          await pnpm(["pack", "--pack-destination", dest], { cwd: pkg.path, env, timeoutMs: 120_000 }),
          "pnpm pack",
        );
        const file = result.stdout.trim().split("\n").pop().trim();
        if (!existsSync(file)) throw new Failure("no tarball", { detail: result.stdout });
        tarballs.set(pkg.name, file);
        overrides[pkg.name] = `file:${file}`;
        return { note: basename(file) };
      }),
    ),
  );
  for (const pkg of packages) {
    const file = tarballs.get(pkg.name);
    if (!file) continue;
    await check(`tarball ${pkg.name}: files, license, no workspace: ranges`, () => {
      const listed = new Set(
        execFileSync("tar", ["-tzf", file], { encoding: "utf8" })
          .split("\n")
          .map((line) => line.replace(/^package\//, "")),
      );
      const packed = JSON.parse(execFileSync("tar", ["-xzOf", file, "package/package.json"], { encoding: "utf8" }));
      const problems = [];
      for (const needed of ["package.json", "README.md", ...filesNamed(packed)]) {
        if (!listed.has(needed))
          problems.push(`missing ${needed}${needed.startsWith("dist/") ? " (built? run pnpm build)" : ""}`);
      }
      if (
        packed.license &&
        packed.license !== "UNLICENSED" &&
        ![...listed].some((f) => /^(LICEN[CS]E|COPYING)/i.test(f))
      ) {
        problems.push(`declares license ${packed.license} but ships no LICENSE file`);
      }
      for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
        for (const [name, range] of Object.entries(packed[field] ?? {})) {
          if (String(range).startsWith("workspace:")) problems.push(`${field}.${name} is still ${range}`);
        }
      }
      if (problems.length > 0) throw new Failure("tarball", { detail: problems.join("\n") });
      return { note: `${listed.size - 1} files` };
    });
  }
}

/** `engines.node` of every package, and the lowest Node each admits. */
function enginesCheck() {
  return check("engines.node declared by every public package", () => {
    const problems = [];
    for (const pkg of packages) {
      const range = pkg.manifest.engines?.node;
      if (!range) problems.push(`${pkg.name} declares no engines.node`);
      else if (!minVersion(range)) problems.push(`${pkg.name} engines.node "${range}" has no lower bound`);
    }
    if (problems.length > 0) throw new Failure("engines", { detail: problems.join("\n") });
    return {
      note: packages.map((pkg) => `${pkg.name.replace("@descope-mcp/", "")} ${pkg.manifest.engines.node}`).join(", "),
    };
  });
}

const ENTRY_SCRIPT_ESM = `
const specs = JSON.parse(process.argv[2]);
const out = {};
for (const spec of specs) {
  try {
    const m = await import(spec);
    const names = Object.keys(m).filter((n) => n !== "default");
    const errors = names.filter((n) => typeof m[n] === "function" && m[n].prototype instanceof Error);
    out[spec] = { ok: names.length > 0, names, errors, error: names.length > 0 ? undefined : "no exports" };
  } catch (error) {
    out[spec] = { ok: false, error: \`\${error.code ?? error.name}: \${String(error.message).split("\\n")[0]}\` };
  }
}
console.log(JSON.stringify(out));
`;
const ENTRY_SCRIPT_CJS = `
const specs = JSON.parse(process.argv[2]);
const out = {};
for (const spec of specs) {
  try {
    const names = Object.keys(require(spec)).filter((n) => n !== "default" && n !== "__esModule");
    out[spec] = { ok: names.length > 0, names, error: names.length > 0 ? undefined : "no exports" };
  } catch (error) {
    out[spec] = { ok: false, error: \`\${error.code ?? error.name}: \${String(error.message).split("\\n")[0]}\` };
  }
}
console.log(JSON.stringify(out));
`;

/** Imports (ESM) or requires (CJS) every entry point with `node`, one check per package. */
async function runEntries(projectDir, format, node, label) {
  const script = format === "esm" ? join(projectDir, "esm", "entries.mjs") : join(projectDir, "cjs", "entries.cjs");
  const specs = packages.flatMap((pkg) =>
    entryPoints(pkg.manifest)
      .filter((e) => e[format])
      .map((e) => e.spec),
  );
  const result = await run(node, [script, JSON.stringify(specs)], { cwd: dirname(script), env, timeoutMs: 60_000 });
  let out = {};
  try {
    out = JSON.parse(result.stdout.trim().split("\n").pop());
  } catch {}
  for (const pkg of packages) {
    const mine = entryPoints(pkg.manifest).filter((e) => e[format]);
    if (mine.length === 0) continue;
    await check(`${format === "esm" ? "import" : "require"} every entry point of ${pkg.name} on ${label}`, () => {
      const failed = mine.filter((e) => !out[e.spec]?.ok);
      if (failed.length > 0) {
        throw new Failure("entry points", {
          detail: failed
            .map((e) => `${e.spec}: ${out[e.spec]?.error ?? (result.stderr.trim() || "not run")}`)
            .join("\n"),
          hint:
            format === "cjs" && failed.some((e) => /ERR_REQUIRE_ESM/.test(out[e.spec]?.error ?? ""))
              ? `require() of an ES module dependency needs Node ≥ 20.19: engines.node "${pkg.manifest.engines?.node}" admits ${label}`
              : undefined,
        });
      }
      return { note: mine.map((e) => `${e.spec} (${out[e.spec].names.length})`).join(", ") };
    });
  }
  return out;
}

/** The npm project with every tarball: runtime imports on each Node, and the TypeScript matrix. */
async function entryPointsProject(coreSurface) {
  const dir = join(work, "npm-entry-points");
  const peers = new Map();
  for (const pkg of packages) {
    for (const [name, range] of Object.entries(pkg.manifest.peerDependencies ?? {})) {
      const optional = pkg.manifest.peerDependenciesMeta?.[name]?.optional === true;
      if (!optional && !ours.has(name) && !peers.has(name)) peers.set(name, range);
    }
  }
  const lowestMajor = Math.min(
    ...packages.map((pkg) => Number((minVersion(pkg.manifest.engines?.node ?? "") ?? "20").split(".")[0])),
  );
  const installed = await check("npm project with every tarball and its peer dependencies", async () => {
    writeJSON(join(dir, "package.json"), { name: "consumer-entry-points", private: true });
    writeJSON(join(dir, "esm", "package.json"), { name: "consumer-esm", private: true, type: "module" });
    writeJSON(join(dir, "cjs", "package.json"), { name: "consumer-cjs", private: true, type: "commonjs" });
    await npmInstall(dir, [...packages.map((p) => p.name), ...[...peers].map(([n, r]) => `${n}@${r}`)], "npm install");
    // A TypeScript user adds DefinitelyTyped types for a peer that ships none, and @types/node.
    const types = [`@types/node@^${lowestMajor}`];
    for (const name of peers.keys()) {
      const manifest = JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8"));
      const typed =
        manifest.types ||
        manifest.typings ||
        conditionsOf(manifest.exports).has("types") ||
        existsSync(join(dir, "node_modules", name, "index.d.ts"));
      if (!typed && !name.startsWith("@types/")) {
        types.push(`@types/${name.replace(/^@(.*)\//, "$1__")}@^${manifest.version.split(".")[0]}`);
      }
    }
    await npmInstall(dir, [
      "-D",
      ...types,
      `typescript@${TYPESCRIPT["6.0"]}`,
      `typescript-5.9@npm:typescript@${TYPESCRIPT["5.9"]}`,
    ]);
    assertFromTarballs(dir);
    return { note: `peers ${[...peers.keys()].join(", ") || "none"}; ${types.join(", ")}` };
  });
  if (!installed) return;

  writeFileSync(join(dir, "esm", "entries.mjs"), ENTRY_SCRIPT_ESM);
  writeFileSync(join(dir, "cjs", "entries.cjs"), ENTRY_SCRIPT_CJS);
  const all = packages.flatMap((pkg) => entryPoints(pkg.manifest));
  const esmSpecs = all.filter((e) => e.esm).map((e) => e.spec);
  // Nest 12 (the newest major @descope-mcp/nest admits, so what npm installs) is ESM-only: a CommonJS
  // program loads it through require(esm) (Node ≥ 20.19), which TypeScript models under `module: node20`,
  // not node16 (TS1479 on every `@nestjs/*` import, the app's own included). Those packages' CommonJS
  // entries are checked under node20 instead.
  const requiresEsm = (spec) => REQUIRE_ESM_PACKAGES.some((name) => spec === name || spec.startsWith(`${name}/`));
  const cjsSpecs = all.filter((e) => e.cjs && !requiresEsm(e.spec)).map((e) => e.spec);
  const cjsNode20Specs = all.filter((e) => e.cjs && requiresEsm(e.spec)).map((e) => e.spec);
  writeFileSync(
    join(dir, "esm", "entries.ts"),
    `${esmSpecs.map((s, i) => `import * as e${i} from "${s}";`).join("\n")}\nexport const modules = [${esmSpecs.map((_, i) => `e${i}`).join(", ")}];\n`,
  );
  writeFileSync(
    join(dir, "cjs", "entries.ts"),
    `${cjsSpecs.map((s, i) => `import * as e${i} from "${s}";`).join("\n")}\nexport const modules = [${cjsSpecs.map((_, i) => `e${i}`).join(", ")}];\n`,
  );
  writeFileSync(
    join(dir, "cjs", "entries-require.ts"),
    `${[...cjsSpecs, ...cjsNode20Specs].map((s, i) => `import e${i} = require("${s}");`).join("\n")}\nexport const modules = [${[...cjsSpecs, ...cjsNode20Specs].map((_, i) => `e${i}`).join(", ")}];\n`,
  );
  writeFileSync(
    join(dir, "cjs", "entries-node20.ts"),
    `${cjsNode20Specs.map((s, i) => `import * as e${i} from "${s}";`).join("\n")}\nexport const modules = [${cjsNode20Specs.map((_, i) => `e${i}`).join(", ")}];\n`,
  );
  // node16 decides each file's format from the nearest package.json, so one program checks the ESM
  // consumer (esm/, type: module → `import` conditions) and the CommonJS one (cjs/ → `require`); with
  // `module: preserve` and `bundler`, `import` declarations take `import` and `import x = require()` takes
  // `require`.
  const configs = [
    [
      "ESM + CommonJS, node16",
      "tsconfig.node16.json",
      tsconfig({ ...TS_NODE16, files: ["esm/entries.ts", "cjs/entries.ts"], typesNode: true }),
    ],
    ...(cjsNode20Specs.length > 0
      ? [
          [
            `CommonJS through require(esm) (${cjsNode20Specs.join(", ")}), node20`,
            "tsconfig.node20.json",
            tsconfig({ ...TS_NODE20, files: ["cjs/entries-node20.ts"], typesNode: true }),
          ],
        ]
      : []),
    [
      "ESM + CommonJS (import = require), bundler + module preserve",
      "tsconfig.bundler.json",
      tsconfig({ ...TS_PRESERVE, esm: true, files: ["esm/entries.ts", "cjs/entries-require.ts"], typesNode: true }),
    ],
  ];
  for (const [, file, config] of configs) writeJSON(join(dir, file), config);

  // Runtime on this Node, with the core's error classes for the pnpm check.
  const esm = await runEntries(dir, "esm", process.execPath, `Node ${process.version.slice(1)}`);
  coreSurface.resolve({
    errors: esm[CORE]?.errors ?? [],
    factories: (esm[CORE]?.names ?? []).filter((n) => /FromEnv$/.test(n)),
  });
  const typeChecks = Promise.all(
    configs.flatMap(([label, file]) =>
      Object.keys(TYPESCRIPT).map((version) =>
        check(`TypeScript ${version}, ${label}, strict, skipLibCheck: false: every entry point`, () =>
          typeCheck(dir, version === "6.0" ? "typescript" : "typescript-5.9", join(dir, file)),
        ),
      ),
    ),
  );
  await runEntries(dir, "cjs", process.execPath, `Node ${process.version.slice(1)}`);

  // Runtime on the lowest Node each package's engines admits.
  const lowest = new Map();
  for (const pkg of packages) {
    const version = minVersion(pkg.manifest.engines?.node ?? "");
    if (version) lowest.set(version, [...(lowest.get(version) ?? []), pkg.name]);
  }
  for (const [version, names] of lowest) {
    const bin = await check(`Node ${version} (lowest engines.node of ${names.join(", ")}) from the npm registry`, () =>
      installs(() => installNode(version, join(work, `node-${version}`), { env })).then((binDir) => ({ binDir })),
    );
    if (!bin?.binDir) continue;
    await runEntries(dir, "esm", join(bin.binDir, "node"), `Node ${version} (engines minimum)`);
    await runEntries(dir, "cjs", join(bin.binDir, "node"), `Node ${version} (engines minimum)`);
  }
  await typeChecks;
}

/** One npm project per README, installed by its install line: the quick start type-checks as written. */
async function readmeProject(pkg, readme) {
  const dir = join(work, `npm-readme-${pkg.dir}`);
  const label = `${pkg.name} README`;
  const installed = await check(
    `${label}: npm ${readme.installLines.map((w) => `i ${w.join(" ")}`).join(" && npm ")} (+ typescript)`,
    async () => {
      writeJSON(join(dir, "package.json"), { name: `consumer-readme-${pkg.dir}`, private: true, type: "module" });
      for (const words of readme.installLines) await npmInstall(dir, words);
      await npmInstall(dir, ["-D", `typescript@${TYPESCRIPT["6.0"]}`]);
      assertFromTarballs(dir);
    },
  );
  if (!installed || !readme.quickStart) return;
  writeFileSync(join(dir, "quickstart.ts"), readme.quickStart);
  const typesNode = existsSync(join(dir, "node_modules", "@types", "node"));
  writeJSON(
    join(dir, "tsconfig.json"),
    tsconfig({ ...TS_NODE16, esm: true, files: ["quickstart.ts"], typesNode, decorators: usesDecorators(pkg) }),
  );
  await check(
    `${label}: "${readme.quickHeading}" type-checks as written (TypeScript 6.0, node16, skipLibCheck: false, npm)`,
    () => typeCheck(dir, "typescript", join(dir, "tsconfig.json")),
  );
  if (RUN_FOR_REAL.includes(pkg.name)) await realRun(pkg, readme, dir);
}

/** One pnpm workspace with a project per README: strict resolution, the quick start again, core reach. */
async function pnpmWorkspace(readmes, coreSurface) {
  const dir = join(work, "pnpm-readmes");
  const projects = [];
  const installed = await check(
    `pnpm workspace: one project per README install line (+ typescript ${TYPESCRIPT["5.9"]})`,
    async () => {
      writeJSON(join(dir, "package.json"), { name: "consumer-pnpm", private: true });
      writeFileSync(
        join(dir, "pnpm-workspace.yaml"),
        `packages:\n  - "readme-*"\noverrides:\n${Object.entries(overrides)
          .map(([n, v]) => `  "${n}": "${v}"`)
          .join("\n")}\n`,
      );
      for (const [pkg, readme] of readmes) {
        const dependencies = {};
        const devDependencies = { typescript: TYPESCRIPT["5.9"] };
        for (const words of readme.installLines) {
          const dev = words.some((w) => w === "-D" || w === "--save-dev");
          for (const word of words.filter((w) => !w.startsWith("-"))) {
            const { name, range } = splitSpec(word);
            (dev ? devDependencies : dependencies)[name] = tarballs.has(name)
              ? `file:${tarballs.get(name)}`
              : (range ?? "latest");
          }
        }
        const sub = join(dir, `readme-${pkg.dir}`);
        writeJSON(join(sub, "package.json"), {
          name: `readme-${pkg.dir}`,
          private: true,
          type: "module",
          dependencies,
          devDependencies,
        });
        projects.push({ pkg, readme, sub });
      }
      must(
        await installs(() =>
          pnpm(["install", "--no-frozen-lockfile", "--config.confirmModulesPurge=false"], {
            cwd: dir,
            env,
            timeoutMs: 600_000,
          }),
        ),
        "pnpm install",
      );
    },
  );
  if (!installed) return;
  const surface = await coreSurface.promise;
  await Promise.all(
    projects.map(async ({ pkg, readme, sub }) => {
      const label = `${pkg.name} README under pnpm`;
      const probes = [
        ...new Set([
          ...readme.imports.filter((s) => ours.has(packageOf(s))),
          ...(readme.quickStart ? importsOf(readme.quickStart) : []),
        ]),
      ];
      const isAdapter = Boolean(pkg.manifest.dependencies?.[CORE]);
      writeFileSync(
        join(sub, "probe.mjs"),
        `const out = {};\nfor (const spec of ${JSON.stringify([...probes, ...(isAdapter ? [CORE, pkg.name] : [])])}) {\n  try { out[spec] = { ok: true, names: Object.keys(await import(spec)) }; } catch (error) { out[spec] = { ok: false, error: \`\${error.code ?? error.name}: \${String(error.message).split("\\n")[0]}\` }; }\n}\nconsole.log(JSON.stringify(out));\n`,
      );
      const probe = await run(process.execPath, ["probe.mjs"], { cwd: sub, env, timeoutMs: 60_000 });
      let out = {};
      try {
        out = JSON.parse(probe.stdout.trim().split("\n").pop());
      } catch {}
      await check(`${label}: every module its TypeScript imports resolves with only the install line`, () => {
        const failed = probes.filter((s) => !out[s]?.ok);
        if (failed.length > 0) {
          throw new Failure("unresolved", {
            detail: failed.map((s) => `${s}: ${out[s]?.error ?? (probe.stderr.trim() || "not run")}`).join("\n"),
            hint: `add ${[...new Set(failed.map(packageOf))].join(", ")} to the install line`,
          });
        }
        return { note: probes.join(", ") };
      });
      if (isAdapter) {
        await check(`${label}: the core's errors and env factory are reachable (from ${CORE} or the adapter)`, () => {
          if (out[CORE]?.ok) return { note: `${CORE} is installed by the install line` };
          if (surface.errors.length === 0) {
            throw new Failure("unknown", {
              detail: `the exports of ${CORE} could not be read (see the entry-point checks)`,
            });
          }
          const exported = new Set(out[pkg.name]?.names ?? []);
          const missing = [...surface.errors, ...surface.factories].filter((n) => !exported.has(n));
          if (missing.length > 0) {
            throw new Failure("unreachable", {
              detail: `import from "${CORE}" fails (${out[CORE]?.error}), and ${pkg.name} does not export: ${missing.join(", ")}`,
              hint: `re-export them from ${pkg.name}, or put ${CORE} on the install line`,
            });
          }
          return { note: `re-exported by ${pkg.name}` };
        });
      }
      if (readme.quickStart) {
        writeFileSync(join(sub, "quickstart.ts"), readme.quickStart);
        const typesNode = existsSync(join(sub, "node_modules", "@types", "node"));
        // skipLibCheck: true here (TypeScript's `tsc --init` default): the npm check above and the entry points
        // check the declaration files; this one is about what pnpm's layout lets the quick start see.
        writeJSON(
          join(sub, "tsconfig.json"),
          tsconfig({
            ...TS_BUNDLER,
            esm: true,
            files: ["quickstart.ts"],
            typesNode,
            skipLibCheck: true,
            decorators: usesDecorators(pkg),
          }),
        );
        await check(
          `${label}: "${readme.quickHeading}" type-checks as written (TypeScript 5.9, bundler, skipLibCheck: true, pnpm)`,
          () => typeCheck(sub, "typescript", join(sub, "tsconfig.json")),
        );
      }
    }),
  );
}

const importsOf = (code) =>
  [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"'./][^"']*)["']/g)]
    .map((m) => m[1])
    .filter((s) => !s.startsWith("node:"));

// ---------------------------------------------------------------------------------------------------------
// The real run: the quick start served from the tarballs, the emulator, the official client

const CLIENT_TS = `import { HeadlessOAuthClient } from "@descope-mcp/testing";
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from "@modelcontextprotocol/client";

const url = new URL(process.argv[2] ?? "");
const oauth = new HeadlessOAuthClient({ clientName: "consumer check" });
const connect = () => ({
  transport: new StreamableHTTPClientTransport(url, { authProvider: oauth }),
  client: new Client({ name: "consumer-check", version: "1.0.0" }),
});

let { transport, client } = connect();
let challenged = false;
try {
  await client.connect(transport);
} catch (error) {
  if (!(error instanceof UnauthorizedError)) throw error;
  challenged = true;
}
if (!challenged) throw new Error("the first connect went through without authorization");
await transport.finishAuth(oauth.takeCallback().searchParams);
({ transport, client } = connect());
await client.connect(transport);
const tools = (await client.listTools()).tools.map((tool) => tool.name);
const name = tools.includes("whoami") ? "whoami" : tools[0];
if (name === undefined) throw new Error("tools/list is empty");
const result = await client.callTool({ name, arguments: {} });
await client.close();
console.log(JSON.stringify({ authorizations: oauth.authorizations, tools, tool: name, result }));
`;

const RUNNER_MJS = `// Inside the check's network namespace (when it has one): emulator, quick start, client; then stop both.
import { spawn } from "node:child_process";
import { connect } from "node:net";

const [mcpURL, envNames] = [process.argv[2], JSON.parse(process.argv[3])];
const children = [];
const start = (args, extraEnv = {}) => {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  child.output = "";
  child.stdout.on("data", (c) => (child.output += c));
  child.stderr.on("data", (c) => (child.output += c));
  children.push(child);
  return child;
};
const until = (predicate, ms, what) =>
  new Promise((ok, fail) => {
    const deadline = Date.now() + ms;
    const tick = async () => {
      if (await predicate()) return ok();
      if (Date.now() > deadline) return fail(new Error(\`timed out waiting for \${what}\`));
      setTimeout(tick, 100);
    };
    tick();
  });
const report = (value) => {
  for (const child of children) child.kill("SIGTERM");
  console.log(JSON.stringify({ ...value, logs: children.map((c) => c.output) }));
};
try {
  const emulator = start(["node_modules/.bin/descope-emulator", "--port", "0"]);
  const field = (name) => new RegExp(\`^\${name}: (.+)$\`, "m").exec(emulator.output)?.[1]?.trim();
  await until(() => field("management-key") !== undefined || emulator.exitCode !== null, 15_000, "the emulator");
  const supplied = { DESCOPE_ISSUER_URL: field("issuer"), DESCOPE_MANAGEMENT_KEY: field("management-key"), DESCOPE_PROJECT_ID: field("project-id") };
  const missing = envNames.filter((n) => supplied[n] === undefined);
  if (missing.length > 0) throw new Error(\`the quick start reads \${missing.join(", ")}, which the emulator does not provide\`);
  const server = start(["run/quickstart.js"], Object.fromEntries(envNames.map((n) => [n, supplied[n]])));
  const { hostname, port } = new URL(mcpURL);
  const open = () =>
    new Promise((ok) => {
      const socket = connect(Number(port || 80), hostname.replace(/^\\[|\\]$/g, ""));
      socket.once("connect", () => { socket.destroy(); ok(true); });
      socket.once("error", () => ok(false));
    });
  await until(async () => server.exitCode !== null || (await open()), 20_000, \`the quick start to listen on \${port}\`);
  if (server.exitCode !== null) throw new Error(\`the quick start exited \${server.exitCode}\`);
  const client = start(["run/client.js", mcpURL]);
  const code = await new Promise((ok) => {
    const timer = setTimeout(() => { client.kill("SIGTERM"); ok("timeout"); }, 60_000);
    client.on("close", (c) => { clearTimeout(timer); ok(c); });
  });
  const last = client.output.trim().split("\\n").pop();
  report(code === 0 ? { ok: true, client: JSON.parse(last) } : { ok: false, error: \`the client exited \${code}\` });
} catch (error) {
  report({ ok: false, error: String(error?.message ?? error) });
}
`;

let namespaceSupport;
async function canUseNamespace() {
  namespaceSupport ??= run("unshare", ["-rn", "sh", "-c", "ip link set lo up"], { env, timeoutMs: 10_000 }).then(
    (r) => r.code === 0,
  );
  return namespaceSupport;
}

async function realRun(pkg, readme, dir) {
  const label = `${pkg.name} quick start for real`;
  const code = readme.quickStart;
  const baseURL = /\bbaseURL\s*:\s*["'`]([^"'`]+)["'`]/.exec(code)?.[1];
  const mcpPath = /\bmcpPath\s*:\s*["'`]([^"'`]+)["'`]/.exec(code)?.[1] ?? "/mcp";
  const port = /\.listen\(\s*(\d+)/.exec(code)?.[1];
  const envNames = [...new Set([...code.matchAll(/process\.env\.(\w+)/g)].map((m) => m[1]))];
  const local = await check(`${label}: its baseURL is this machine`, () => {
    if (!baseURL) throw new Failure("no baseURL", { detail: 'the quick start has no literal baseURL: "…"' });
    const { hostname } = new URL(baseURL);
    if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(hostname)) {
      throw new Failure("not local", {
        detail:
          `baseURL: "${baseURL}" with app.listen(${port ?? "…"}): run as written, a client connecting to ${baseURL}${mcpPath} ` +
          `cannot reach this server (getaddrinfo ENOTFOUND ${hostname}), and one connecting to http://127.0.0.1:${port ?? 3000}${mcpPath} ` +
          `is told the protected resource is ${new URL(mcpPath, baseURL).href}.`,
        hint: `use baseURL: "http://127.0.0.1:${port ?? 3000}" in the quick start (and say that the host must match what clients use)`,
      });
    }
    return { note: `${baseURL}${mcpPath}` };
  });
  if (!local) return;
  const ready = await check(`${label}: + ${MCP_CLIENT}, the packed @descope-mcp/testing, @types/node`, async () => {
    await npmInstall(dir, ["@descope-mcp/testing", MCP_CLIENT]);
    await npmInstall(dir, ["-D", "@types/node"]);
    assertFromTarballs(dir);
  });
  if (!ready) return;
  writeFileSync(join(dir, "client.ts"), CLIENT_TS);
  writeFileSync(join(dir, "runner.mjs"), RUNNER_MJS);
  // Compiled as a user would before `node`; the quick start's own type errors were reported above.
  writeJSON(
    join(dir, "tsconfig.run.json"),
    tsconfig({
      ...TS_NODE16,
      esm: true,
      files: ["quickstart.ts", "client.ts"],
      typesNode: true,
      outDir: "run",
      skipLibCheck: true,
    }),
  );
  const compiled = await tsc(dir, "typescript", join(dir, "tsconfig.run.json"));
  await check(`${label}: the client (HeadlessOAuthClient as the SDK's authProvider) type-checks`, () => {
    // tsc prints an error's explanation on the indented lines after it.
    const own = (compiled.stdout + compiled.stderr).split(/\n(?! )/).filter((error) => error.startsWith("client.ts("));
    if (own.length > 0) throw new Failure("type errors", { detail: own.join("\n"), hint: hintFor(own.join("\n")) });
  });
  await check(`${label}: the official client's OAuth flow reaches tools/call`, async () => {
    if (!existsSync(join(dir, "run", "quickstart.js")) || !existsSync(join(dir, "run", "client.js"))) {
      throw new Failure("not compiled", { detail: (compiled.stdout + compiled.stderr).trim() });
    }
    const mcpURL = new URL(mcpPath, baseURL).href;
    const args = [join(dir, "runner.mjs"), mcpURL, JSON.stringify(envNames)];
    const isolated = await canUseNamespace();
    const result = isolated
      ? await run("unshare", ["-rn", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', process.execPath, ...args], {
          cwd: dir,
          env,
          timeoutMs: 120_000,
        })
      : await run(process.execPath, args, { cwd: dir, env, timeoutMs: 120_000 });
    let report;
    try {
      report = JSON.parse(result.stdout.trim().split("\n").pop());
    } catch {
      throw new Failure("runner", { detail: `${result.stdout}\n${result.stderr}`.trim() });
    }
    const logs = () =>
      report.logs.map((log, i) => `--- ${["emulator", "quick start", "client"][i]}\n${log.trim()}`).join("\n");
    if (!report.ok) throw new Failure("flow", { detail: `${report.error}\n${logs()}` });
    const text = report.client.result?.content?.find((c) => c.type === "text")?.text;
    if (report.client.result?.isError || !text || text === "undefined" || text === "null") {
      throw new Failure("tool result", { detail: `${JSON.stringify(report.client.result)}\n${logs()}` });
    }
    if (report.client.authorizations < 1) throw new Failure("no OAuth", { detail: JSON.stringify(report.client) });
    return {
      note: `${isolated ? "own network namespace, " : ""}${mcpURL}: ${report.client.authorizations} authorization, tools/call ${report.client.tool} → ${JSON.stringify(text)}`,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------

const cleanup = () => {
  stopAll();
  if (!KEEP) rmSync(work, { recursive: true, force: true });
};
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

try {
  console.log(`consumer check: ${packages.map((p) => p.name).join(", ")} (Node ${process.version}, ${work})`);
  await phase("pack", packAll);
  await enginesCheck();
  const readmes = packages.map((pkg) => [pkg, readmeOf(pkg)]);
  for (const [pkg, readme] of readmes) {
    await check(`${pkg.name} README: an npm install line ("## Install", or before the quick start)`, () => {
      if (!readme.hasInstall) {
        throw new Failure("no install line", {
          detail: `packages/${pkg.dir}/README.md has no \`npm i …\` line under "## Install" or before "## Quick start"; checking with \`npm i ${pkg.name}\``,
        });
      }
      return { note: readme.installLines.map((w) => `npm i ${w.join(" ")}`).join(" && ") };
    });
    await check(`${pkg.name} README: a "## Quick start" section with a TypeScript block`, () => {
      if (!readme.quickStart) {
        throw new Failure("no quick start", {
          detail: `packages/${pkg.dir}/README.md has no level-2 heading starting "Quick start" followed by a \`\`\`ts block`,
        });
      }
      return { note: readme.quickHeading };
    });
  }
  if (tarballs.size === packages.length) {
    let resolveSurface;
    const coreSurface = { promise: new Promise((ok) => (resolveSurface = ok)) };
    coreSurface.resolve = resolveSurface;
    await phase("install, import, type-check, run", () =>
      Promise.all([
        entryPointsProject(coreSurface).finally(() => coreSurface.resolve({ errors: [], factories: [] })),
        ...readmes.map(([pkg, readme]) => readmeProject(pkg, readme)),
        pnpmWorkspace(readmes, coreSurface),
      ]),
    );
  }
} finally {
  cleanup();
}

/** CPU seconds of the children this process waited for (npm, pnpm, tsc, node), where /proc says. */
function childrenCpu() {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, in USER_HZ (100) ticks
  } catch {
    return undefined;
  }
}

const failed = results.filter((r) => !r.ok);
const total = performance.now() - started;
const cpu = childrenCpu();
console.log(
  `\nconsumer check finished in ${seconds(total)} (${phases.map(([n, ms]) => `${n} ${seconds(ms)}`).join(", ")}${cpu === undefined ? "" : `; CPU of its processes ${cpu.toFixed(1)}s`})`,
);
if (failed.length > 0) {
  console.log(`\n${failed.length} failed:`);
  for (const r of failed) console.log(`  - ${r.name}${r.hint ? `\n      → ${r.hint}` : ""}`);
}
if (KEEP) console.log(`kept ${work}`);
console.log(`consumer-check: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length > 0 ? 1 : 0);
