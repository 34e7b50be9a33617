// The published files import nothing from Node, so the package runs wherever Hono runs (see also
// workerd.test.ts, which runs them in workerd with no compatibility flags at all).
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const PACKAGE = join(import.meta.dirname, "..");
const BUILTINS = new Set(builtinModules);

function specifiers(file: string): string[] {
  const text = readFileSync(join(PACKAGE, "dist", file), "utf8");
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

describe("the built package", () => {
  it.each(["index.js", "index.cjs"])("%s imports only Hono's types and the core", (file) => {
    const fromNode = specifiers(file).filter((s) => s.startsWith("node:") || BUILTINS.has(s.split("/")[0] as string));
    expect(fromNode).toEqual([]);
    expect(specifiers(file)).toEqual(["@descope-mcp/core"]);
  });
});
