// Every public symbol of the package carries a TSDoc comment: each export of src/index.ts, and inside
// it every member (interface and class members, properties of type literals, constructors), as editors and
// the API reference show them. Read syntactically with the TypeScript parser (fast; no type checking).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const srcDir = fileURLToPath(new URL("../src/", import.meta.url));
const parse = (file: string) =>
  ts.createSourceFile(file, readFileSync(`${srcDir}${file}`, "utf8"), ts.ScriptTarget.ES2022, true);

/** Whether a declaration has a `/** … *\/` comment with text (tags alone do not count). */
const documented = (node: ts.Node): boolean =>
  ts
    .getJSDocCommentsAndTags(node)
    .some((doc) => ts.isJSDoc(doc) && (ts.getTextOfJSDocComment(doc.comment) ?? "").trim() !== "");

const isPrivate = (node: ts.Node) =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword);

/** Every member inside `node` that needs its own comment, with a dotted name for the report. */
function members(node: ts.Node, prefix: string, out: [string, ts.Node][]): void {
  node.forEachChild((child) => {
    if (ts.isBlock(child)) return; // function bodies are not API
    const isMember =
      ts.isPropertySignature(child) ||
      ts.isMethodSignature(child) ||
      ts.isPropertyDeclaration(child) ||
      ts.isMethodDeclaration(child) ||
      ts.isGetAccessorDeclaration(child) ||
      ts.isConstructorDeclaration(child);
    if (isMember && isPrivate(child)) return;
    if (isMember) {
      const name = ts.isConstructorDeclaration(child) ? "constructor" : child.name.getText();
      out.push([`${prefix}.${name}`, child]);
      members(child, `${prefix}.${name}`, out);
    } else {
      members(child, prefix, out);
    }
  });
}

function undocumented(): string[] {
  const index = parse("index.ts");
  const missing: string[] = [];
  for (const statement of index.statements) {
    if (!ts.isExportDeclaration(statement) || !statement.exportClause || !statement.moduleSpecifier) continue;
    if (!ts.isNamedExports(statement.exportClause)) continue;
    const file = (statement.moduleSpecifier as ts.StringLiteral).text.replace(/^\.\//, "").replace(/\.js$/, ".ts");
    const source = parse(file);
    for (const element of statement.exportClause.elements) {
      const name = (element.propertyName ?? element.name).text;
      const declaration = source.statements
        .flatMap((s): ts.Node[] => (ts.isVariableStatement(s) ? [...s.declarationList.declarations] : [s]))
        .find((d) => (d as { name?: ts.Node }).name?.getText() === name);
      if (!declaration) {
        missing.push(`${name} (declaration not found in ${file})`);
        continue;
      }
      if (!documented(declaration)) missing.push(name);
      const found: [string, ts.Node][] = [];
      members(declaration, name, found);
      for (const [member, node] of found) if (!documented(node)) missing.push(member);
    }
  }
  return missing;
}

describe("TSDoc", () => {
  it("documents every export and every public member", () => {
    expect(undocumented()).toEqual([]);
  });

  it("notices a missing comment (the check has teeth)", () => {
    const source = ts.createSourceFile(
      "x.ts",
      ["/** Documented. */", "export interface A {", "  /** Yes. */", "  a: string;", "  b: { c: number };", "}"].join(
        "\n",
      ),
      ts.ScriptTarget.ES2022,
      true,
    );
    const found: [string, ts.Node][] = [];
    const declaration = source.statements[0] as ts.Node;
    members(declaration, "A", found);
    expect(documented(declaration)).toBe(true);
    expect(found.filter(([, node]) => !documented(node)).map(([name]) => name)).toEqual(["A.b", "A.b.c"]);
  });
});
