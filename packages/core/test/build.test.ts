// What the published files import: nothing from Node, in either entry. The session store finds the
// runtime's AsyncLocalStorage at run time (process.getBuiltinModule), so no bundler — esbuild, the
// rspack of `xmcp build --cf` (which externalizes only a bare `async_hooks`), Next.js — has a Node
// module to resolve, prefixed or not.
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

  it.each(["index.js", "index.cjs", "node.js", "node.cjs"])("%s (and its chunks) import nothing from Node", (entry) => {
    for (const file of closure(entry)) {
      expect(nodeModules(specifiers(file)), file).toEqual([]);
    }
  });
});
