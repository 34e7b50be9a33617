import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { sessionFromClaims } from "../src/index.js";

const session = (sub: string) =>
  sessionFromClaims("t", { sub, iss: "https://api.descope.com/P2x", exp: 2_000_000_000 }, { projectId: "P2x" });

describe("the session store of @descope-mcp/core/node", () => {
  it("is one store for every copy of the module (ESM and CJS builds, or two bundles of one app)", async () => {
    const esm = await import("../dist/node.js");
    const cjs = createRequire(import.meta.url)("../dist/node.cjs") as typeof esm;
    const src = await import("../src/node.js");
    const ada = session("ada");
    // A session set through one copy is what every other copy sees, across an await.
    await esm.runWithSession(ada, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(cjs.getSession()).toBe(ada);
      expect(src.getSession()).toBe(ada);
    });
    await cjs.runWithSession(session("bob"), async () => {
      expect(esm.requireSession().userId).toBe("bob");
    });
    expect(esm.getSession()).toBeUndefined();
    expect(() => cjs.requireSession()).toThrow(/No Descope session/);
  });
});
