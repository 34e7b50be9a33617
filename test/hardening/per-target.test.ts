// The suites split into one file per example target (faults/, corpus-http/) cover exactly the built
// targets: a new example or target without its files fails here instead of going untested.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLES } from "./lib.js";

describe.each(["faults", "corpus-http"])("test/hardening/%s/", (dir) => {
  it("has one test file per built example target", () => {
    const files = readdirSync(join(import.meta.dirname, dir)).filter((f) => f.endsWith(".test.ts"));
    expect(files.map((f) => f.slice(0, -".test.ts".length)).sort()).toEqual([...EXAMPLES].sort());
  });
});
