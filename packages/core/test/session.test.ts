import { describe, expect, it } from "vitest";
import { sessionFromClaims } from "../src/index.js";

const base = { sub: "U1", iss: "https://api.descope.com/v1/apps/P2EmuLat0rPr0jectId000000001", exp: 2_000_000_000 };
const context = { projectId: "P2EmuLat0rPr0jectId000000001" };

describe("sessionFromClaims: tenants", () => {
  it("holds exactly the token's tenants: inherited names are not tenants", () => {
    const s = sessionFromClaims("t", { ...base, tenants: { T1: { roles: ["admin"] } } }, context);
    expect(s.tenants.T1).toEqual({ roles: ["admin"], permissions: [] });
    for (const name of ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"]) {
      expect(s.tenants[name]).toBeUndefined();
      expect(name in s.tenants).toBe(false);
    }
    expect(Object.keys(s.tenants)).toEqual(["T1"]);
    expect(JSON.parse(JSON.stringify(s.tenants))).toEqual({ T1: { roles: ["admin"], permissions: [] } });
  });

  it("keeps a `__proto__` tenant as an ordinary, frozen entry (no prototype change)", () => {
    const claims = JSON.parse(
      `{"sub":"U1","iss":"x","exp":2000000000,"tenants":{"__proto__":{"roles":["owner"]},"constructor":{"permissions":["p"]}}}`,
    );
    const s = sessionFromClaims("t", claims, context);
    expect(Object.getPrototypeOf(s.tenants)).toBeNull();
    expect(Object.keys(s.tenants)).toEqual(["__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(s.tenants, "__proto__")?.value).toEqual({
      roles: ["owner"],
      permissions: [],
    });
    expect(s.tenants.constructor).toEqual({ roles: [], permissions: ["p"] });
    expect(Object.isFrozen(s.tenants)).toBe(true);
    expect(({} as Record<string, unknown>).roles).toBeUndefined();
  });

  it("ignores a tenants claim that is not an object", () => {
    for (const tenants of [null, "T1", ["T1"], 5]) {
      const s = sessionFromClaims("t", { ...base, tenants }, context);
      expect(Object.keys(s.tenants)).toEqual([]);
      expect(s.tenants.toString).toBeUndefined();
    }
  });
});
