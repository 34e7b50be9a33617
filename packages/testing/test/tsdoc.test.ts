// Every public symbol of the package — each export of src/index.ts and each member of an exported
// interface or class — carries a TSDoc comment (read with the TypeScript compiler, as editors show it).
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));

function undocumented(): string[] {
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: ["node"],
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (!source) throw new Error("cannot read src/index.ts");
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error("src/index.ts is not a module");
  const missing: string[] = [];
  const hasDoc = (symbol: ts.Symbol) => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() !== "";
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!hasDoc(symbol)) missing.push(exported.name);
    if (!(symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class))) continue;
    for (const [name, member] of symbol.members ?? new Map<ts.__String, ts.Symbol>()) {
      const key = String(name);
      const declaration = member.declarations?.[0];
      const isPrivate =
        declaration !== undefined && (ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Private) !== 0;
      if (isPrivate || key === "__index") continue;
      if (!hasDoc(member)) missing.push(`${exported.name}.${key}`);
    }
  }
  return missing;
}

describe("TSDoc", () => {
  it("documents every export and every public member", () => {
    expect(undocumented()).toEqual([]);
  }, 30_000);
});
