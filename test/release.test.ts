// The release flow (README "Repository"): `pnpm version-packages` (`changeset version`) run on a copy of
// the workspace's manifests and pending changesets. Every public package leaves with the same new
// version (one fixed group) and a CHANGELOG.md that lists its changes; the examples and the benchmark
// (private) are left alone; internal dependencies stay workspace ranges (pnpm rewrites them on publish).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publicPackages, ROOT } from "../scripts/packages.mjs";

const manifestDirs = () =>
  ["packages", "examples"]
    .flatMap((top) => readdirSync(join(ROOT, top)).map((name) => join(top, name)))
    .concat(["bench"])
    .filter((dir) => existsSync(join(ROOT, dir, "package.json")));

const readJSON = (path: string) => JSON.parse(readFileSync(path, "utf8"));

describe("the release flow (changeset version on a copy of the workspace)", () => {
  let work: string;
  const pending = readdirSync(join(ROOT, ".changeset")).filter((f) => f.endsWith(".md") && f !== "README.md");

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "descope-mcp-release-"));
    for (const file of ["package.json", "pnpm-workspace.yaml"]) cpSync(join(ROOT, file), join(work, file));
    cpSync(join(ROOT, ".changeset"), join(work, ".changeset"), { recursive: true });
    for (const dir of manifestDirs()) {
      mkdirSync(join(work, dir), { recursive: true });
      cpSync(join(ROOT, dir, "package.json"), join(work, dir, "package.json"));
    }
    symlinkSync(join(ROOT, "node_modules"), join(work, "node_modules"), "dir");
    execFileSync(process.execPath, [join(ROOT, "node_modules", "@changesets", "cli", "bin.js"), "version"], {
      cwd: work,
      stdio: "pipe",
      env: { ...process.env, CI: "true" },
    });
  }, 60_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("gives every public package one new version and a CHANGELOG with its changes (none: nothing moves)", () => {
    const versions = new Set<string>();
    for (const pkg of publicPackages()) {
      const dir = join(work, "packages", pkg.dir.split("/").pop() as string);
      const manifest = readJSON(join(dir, "package.json"));
      if (pending.length === 0) {
        expect(manifest.version, pkg.name).toBe(pkg.manifest.version); // released already: no pending changes
        continue;
      }
      expect(manifest.version, pkg.name).not.toBe(pkg.manifest.version);
      versions.add(manifest.version);
      const changelog = readFileSync(join(dir, "CHANGELOG.md"), "utf8");
      expect(changelog.startsWith(`# ${pkg.name}\n\n## ${manifest.version}\n`), pkg.name).toBe(true);
      expect(changelog, pkg.name).toMatch(/^- \S/m);
    }
    expect([...versions]).toHaveLength(pending.length === 0 ? 0 : 1);
  });

  it("consumes every changeset and leaves the private workspace packages alone", () => {
    const left = readdirSync(join(work, ".changeset")).filter((f) => f.endsWith(".md") && f !== "README.md");
    expect(left).toEqual([]);
    for (const dir of manifestDirs().filter((d) => !d.startsWith("packages/"))) {
      expect(readJSON(join(work, dir, "package.json")).version, dir).toBe(
        readJSON(join(ROOT, dir, "package.json")).version,
      );
      expect(existsSync(join(work, dir, "CHANGELOG.md")), dir).toBe(false);
    }
  });

  it("keeps internal dependencies as workspace ranges (pnpm publish pins them)", () => {
    for (const pkg of publicPackages()) {
      const manifest = readJSON(join(work, "packages", pkg.dir.split("/").pop() as string, "package.json"));
      for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
        if (name.startsWith("@descope-mcp/")) expect(range, `${pkg.name} → ${name}`).toMatch(/^workspace:/);
      }
    }
  });
});
