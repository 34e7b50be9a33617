// The published files import nothing from Node, so the package runs wherever Hono runs (see also
// workerd.test.ts, which runs them in workerd with no compatibility flags at all).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importsOf, nodeModules } from "../../../test/support/imports.js";

const DIST = join(import.meta.dirname, "..", "dist");

describe("the built package", () => {
  it.each(["index.js", "index.cjs"])("%s imports only the core at run time (Hono's types are erased)", (file) => {
    const imports = importsOf(join(DIST, file));
    expect(nodeModules(imports)).toEqual([]);
    expect(imports).toEqual(["@descope-mcp/core"]);
  });
});
