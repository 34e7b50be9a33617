// What the published files import: the main entry nothing from Node at all, and `/node` only
// prefixed `node:` specifiers (Cloudflare's `nodejs_als` flag resolves `node:async_hooks` but not a
// bare `async_hooks`, and edge bundlers treat only `node:*` as the runtime's own modules).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importsOf, nodeModules } from "../../../test/support/imports.js";

const DIST = join(import.meta.dirname, "..", "dist");
const specifiers = (file: string) => importsOf(join(DIST, file));

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
      expect(nodeModules(specifiers(file)), file).toEqual([]);
    }
  });

  it.each(["node.js", "node.cjs"])("%s keeps the node: prefix on every Node module", (entry) => {
    expect(closure(entry).flatMap((file) => nodeModules(specifiers(file)))).toEqual(["node:async_hooks"]);
  });
});
