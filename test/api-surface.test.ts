// The public API of every package, pinned: for each entry point, every exported name with its kind,
// from the built declarations (types included) and from the built ESM and CommonJS modules. An
// accidental change to the public surface fails here; an intended one is recorded by updating the
// snapshot (`npx vitest run test/api-surface.test.ts -u`) in the same commit.
import { createRequire } from "node:module";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { publicPackages, ROOT } from "../scripts/packages.mjs";

const require = createRequire(import.meta.url);

/** Every name a declaration file exports, with what it is (`class`, `function`, `interface`, …). */
function declaredExports(file: string): Record<string, string> {
  const program = ts.createProgram([file], { skipLibCheck: true, noEmit: true, module: ts.ModuleKind.NodeNext });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`no module symbol for ${file}`);
  const out: Record<string, string> = {};
  for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const f = target.flags;
    const kinds = [
      f & ts.SymbolFlags.Class && "class",
      f & ts.SymbolFlags.Function && "function",
      f & ts.SymbolFlags.Variable && "const",
      f & ts.SymbolFlags.Interface && "interface",
      f & ts.SymbolFlags.TypeAlias && "type",
      f & ts.SymbolFlags.Enum && "enum",
    ].filter(Boolean);
    out[symbol.getName()] = kinds.join("+") || "other";
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

const entries = publicPackages().flatMap((pkg) =>
  pkg.entries.map((entry) => ({
    pkg,
    entry,
    label: `${pkg.name}${entry.subpath === "." ? "" : entry.subpath.slice(1)}`,
  })),
);

describe.each(entries)("the public surface of $label", ({ pkg, entry }) => {
  it("matches the recorded surface (types and values)", async () => {
    if (!entry.types) throw new Error(`${pkg.name} ${entry.subpath} declares no types`);
    const surface = declaredExports(entry.types);
    const snapshot = join(
      ROOT,
      "test",
      "api",
      `${basename(pkg.dir)}${entry.subpath === "." ? "" : `.${entry.subpath.slice(2)}`}.json`,
    );
    await expect(`${JSON.stringify(surface, null, 2)}\n`).toMatchFileSnapshot(snapshot);
  });

  it("exports the same values from ESM, CommonJS and the declarations", async () => {
    const esm = Object.keys(await import(pathToFileURL(entry.esm).href)).sort();
    const cjsFile = entry.esm.replace(/\.js$/, ".cjs");
    const cjs = Object.keys(require(cjsFile))
      .filter((k) => k !== "__esModule" && k !== "default")
      .sort();
    expect(cjs).toEqual(esm);
    const declaredValues = Object.entries(declaredExports(entry.types as string))
      .filter(([, kind]) => /class|function|const|enum/.test(kind))
      .map(([name]) => name)
      .sort();
    expect(esm).toEqual(declaredValues);
  });
});
