// The public packages of the monorepo and their entry points, read from each package.json: what the
// API reference, the export-surface test and the consumer check all work from.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Every non-private package under packages/*, with its entry points: subpath (".", "./node"),
 * the built ESM file, its declaration file and the source file it is built from.
 */
export function publicPackages() {
  const out = [];
  for (const dir of readdirSync(join(ROOT, "packages")).sort()) {
    const manifestPath = join(ROOT, "packages", dir, "package.json");
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    if (manifest.private) continue;
    const entries = [];
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      if (subpath === "./package.json") continue;
      const esm = typeof target === "string" ? target : (target.import?.default ?? target.default);
      const types = typeof target === "string" ? undefined : target.import?.types;
      if (typeof esm !== "string") continue;
      const source = esm.replace(/^\.\/dist\//, "src/").replace(/\.m?js$/, ".ts");
      entries.push({
        subpath,
        esm: join(ROOT, "packages", dir, esm),
        types: types && join(ROOT, "packages", dir, types),
        source: join(ROOT, "packages", dir, source),
      });
    }
    out.push({ name: manifest.name, dir: join(ROOT, "packages", dir), manifest, entries });
  }
  return out;
}
