// What the published files import: the main entry nothing from Node at all, and `/node` only
// prefixed `node:` specifiers (Cloudflare's `nodejs_als` flag resolves `node:async_hooks` but not a
// bare `async_hooks`, and edge bundlers treat only `node:*` as the runtime's own modules).
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const DIST = join(import.meta.dirname, "..", "dist");
const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith("_")));

/** Every module specifier a built file imports or requires (static and dynamic). */
function specifiers(file: string): string[] {
  const text = readFileSync(join(DIST, file), "utf8");
  const found = new Set<string>();
  for (const re of [
    /\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ]) {
    for (const m of text.matchAll(re)) found.add(m[1] as string);
  }
  return [...found].sort();
}

/** The built files an entry loads: itself plus the shared chunks it imports. */
function closure(entry: string): string[] {
  const seen = new Set<string>([entry]);
  for (const file of seen) {
    for (const s of specifiers(file)) if (s.startsWith("./")) seen.add(s.slice(2));
  }
  return [...seen];
}

describe("the built files", () => {
  it("exist for both entries in both formats", () => {
    const files = readdirSync(DIST);
    for (const f of ["index.js", "index.cjs", "node.js", "node.cjs"]) expect(files).toContain(f);
  });

  it.each(["index.js", "index.cjs"])("%s (and its chunks) import nothing from Node", (entry) => {
    for (const file of closure(entry)) {
      const fromNode = specifiers(file).filter((s) => s.startsWith("node:") || BUILTINS.has(s.split("/")[0] as string));
      expect(fromNode, file).toEqual([]);
    }
  });

  it.each(["node.js", "node.cjs"])("%s keeps the node: prefix on every Node module", (entry) => {
    const fromNode = closure(entry).flatMap((file) =>
      specifiers(file).filter((s) => s.startsWith("node:") || BUILTINS.has(s.split("/")[0] as string)),
    );
    expect(fromNode).toEqual(["node:async_hooks"]);
  });
});
