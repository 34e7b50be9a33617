// What a built file imports, for the tests that pin what the published packages load.
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith("_")));

/** Every module specifier the file at `path` imports or requires (static and dynamic), sorted. */
export function importsOf(path: string): string[] {
  const text = readFileSync(path, "utf8");
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

/** The specifiers that name a Node module: `node:*`, or a bare builtin such as `async_hooks`. */
export function nodeModules(specifiers: readonly string[]): string[] {
  return specifiers.filter((s) => s.startsWith("node:") || BUILTINS.has(s.split("/")[0] as string));
}
