// What a user installs: the tarball's files, the entry points and the `descope-emulator` bin. publint and
// attw (`pnpm lint`) check the exports map and its types; attw does not look at `bin`, so this does. It
// runs against the built `dist/` (`pnpm test` builds first).
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as {
  engines: Record<string, string>;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, Record<string, string>>>;
  license: string;
};

let packed: Map<string, number>;
beforeAll(async () => {
  const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: pkgDir,
  });
  const [result] = JSON.parse(stdout) as [{ files: { path: string; mode: number }[] }];
  packed = new Map(result.files.map((f) => [f.path, f.mode]));
}, 60_000);

const file = (target: string) => target.replace(/^\.\//, "");

describe("@descope-mcp/testing as published", () => {
  it("states the Node versions it runs on (the CJS build require()s ESM-only jose)", () => {
    expect(pkg.engines).toEqual({ node: ">=20.19" });
  });

  it("ships the MIT LICENSE, the README and every export target", () => {
    expect(pkg.license).toBe("MIT");
    expect(packed.has("LICENSE")).toBe(true);
    expect(readFileSync(join(pkgDir, "LICENSE"), "utf8")).toContain("Copyright (c) 2026 descope-mcp contributors");
    expect(packed.has("README.md")).toBe(true);
    const targets = Object.values(pkg.exports).flatMap((v) =>
      typeof v === "string" ? [v] : Object.values(v).flatMap((c) => Object.values(c)),
    );
    for (const target of targets.filter((t) => t !== "./package.json")) expect(packed.has(file(target))).toBe(true);
  });

  it("ships an executable descope-emulator bin that runs", async () => {
    expect(Object.keys(pkg.bin)).toEqual(["descope-emulator"]);
    const bin = file(pkg.bin["descope-emulator"] as string);
    expect(existsSync(join(pkgDir, bin)), `${bin} is missing: build the package first`).toBe(true);
    expect(packed.get(bin)).toBe(0o755);
    const source = readFileSync(join(pkgDir, bin), "utf8");
    expect(source.startsWith("#!/usr/bin/env node\n")).toBe(true);
    // ESM (the package is "type": "module"), Node built-ins as node: specifiers.
    expect(source).toMatch(/^import .* from 'node:util';$/m);
    const child = spawn(process.execPath, [join(pkgDir, bin), "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
    expect(out).toMatch(/^Usage: descope-emulator \[options\]/);
  });
});
