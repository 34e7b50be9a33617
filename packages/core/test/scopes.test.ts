import { describe, expect, it } from "vitest";
import {
  hasScopes,
  InsufficientScopeError,
  missingScopes,
  requireScopes,
  scopeCovers,
  scopesForRequest,
  scopesFromClaims,
  toolCallsIn,
} from "../src/index.js";

describe("scope hierarchy", () => {
  it.each([
    ["a:b", "a:b", true],
    ["a:*", "a:b", true],
    ["a:*", "a:b:c", true],
    ["a:b:*", "a:b:c", true],
    ["a:*", "a:*", true],
    ["a:*", "a:b:*", true],
    ["a:*", "a", false],
    ["a:*", "a:", false],
    ["a:*", "ab:c", false],
    ["a:b:*", "a:c", false],
    ["*", "a:b", false],
    ["a:b", "a:*", false],
    [":*", "x", false],
  ])("%s covers %s: %s", (granted, required, expected) => {
    expect(scopeCovers(granted, required)).toBe(expected);
  });

  it("lists missing scopes once, in order", () => {
    expect(missingScopes(["a:*", "x"], ["a:b", "y", "x", "y", "z"])).toEqual(["y", "z"]);
  });

  it("hasScopes accepts a session, a list, or one scope", () => {
    expect(hasScopes({ scopes: ["exec:workflows:*"] }, "exec:workflows:run")).toBe(true);
    expect(hasScopes(["a"], ["a", "b"])).toBe(false);
    expect(hasScopes(["a"], [])).toBe(true);
  });

  it("requireScopes throws InsufficientScopeError with every list and the Python-SDK-shaped JSON", () => {
    let error: unknown;
    try {
      requireScopes({ scopes: ["openid", "notes:read"] }, ["notes:read", "notes:write", "admin"]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InsufficientScopeError);
    const e = error as InsufficientScopeError;
    expect(e.code).toBe("insufficient_scope");
    expect(e.status).toBe(403);
    expect(e.requiredScopes).toEqual(["notes:read", "notes:write", "admin"]);
    expect(e.missingScopes).toEqual(["notes:write", "admin"]);
    expect(e.tokenScopes).toEqual(["openid", "notes:read"]);
    expect(e.combinedScopes).toEqual(["admin", "notes:read", "notes:write", "openid"]);
    expect(e.toJSON()).toEqual({
      error: "insufficient_scope",
      error_description: "The access token lacks required scopes: notes:write admin",
      scope: "admin notes:read notes:write openid",
      missing_scopes: ["notes:write", "admin"],
      token_scopes: ["openid", "notes:read"],
      required_scopes: ["notes:read", "notes:write", "admin"],
    });
  });

  it("requireScopes passes when covered", () => {
    expect(() => requireScopes({ scopes: ["notes:*"] }, ["notes:write"])).not.toThrow();
  });
});

describe("scopes from claims", () => {
  it("reads scope, scp (string or array) and scopes, deduplicated", () => {
    expect(
      scopesFromClaims({ scope: "openid  notes:read", scp: ["x", 3, "bad scope"], scopes: ["openid", "y"] }),
    ).toEqual(["openid", "notes:read", "x", "y"]);
    expect(scopesFromClaims({ scp: "a b" })).toEqual(["a", "b"]);
    expect(scopesFromClaims({ scope: 42 })).toEqual([]);
  });
});

describe("per-tool scopes over JSON-RPC bodies", () => {
  const policy = {
    requiredScopes: ["mcp"],
    toolScopes: { write_note: ["notes:write"], admin: ["admin", "notes:write"] },
  };
  const call = (name: unknown, id = 1) => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name, arguments: {} },
  });

  it("finds tools/call in single requests, batches and JSON text", () => {
    expect(toolCallsIn(call("a"))).toEqual([{ name: "a" }]);
    expect(toolCallsIn([{ jsonrpc: "2.0", method: "tools/list", id: 1 }, call("b", 2)])).toEqual([{ name: "b" }]);
    expect(toolCallsIn(JSON.stringify([call("c")]))).toEqual([{ name: "c" }]);
    expect(toolCallsIn("{not json")).toEqual([]);
    expect(toolCallsIn(null)).toEqual([]);
    expect(toolCallsIn([null, 1, "x", call(42), { method: "tools/call", params: null }])).toEqual([]);
  });

  it("is not blinded by a UTF-8 byte order mark, which body parsers and Request.json() strip", () => {
    expect(toolCallsIn(`\uFEFF${JSON.stringify(call("write_note"))}`)).toEqual([{ name: "write_note" }]);
    expect(scopesForRequest(`\uFEFF${JSON.stringify([call("write_note")])}`, policy).scopes).toEqual([
      "mcp",
      "notes:write",
    ]);
  });

  it("reads raw bytes (Buffer, Uint8Array, ArrayBuffer), with or without a BOM", () => {
    const text = JSON.stringify([call("whoami"), call("write_note", 2)]);
    const expected = [{ name: "whoami" }, { name: "write_note" }];
    expect(toolCallsIn(Buffer.from(text))).toEqual(expected);
    expect(toolCallsIn(new TextEncoder().encode(`\uFEFF${text}`))).toEqual(expected);
    expect(toolCallsIn(new TextEncoder().encode(text).buffer)).toEqual(expected);
    const padded = new TextEncoder().encode(`xx${text}yy`);
    expect(toolCallsIn(new Uint8Array(padded.buffer, 2, padded.length - 4))).toEqual(expected);
    expect(toolCallsIn(Buffer.from("{not json"))).toEqual([]);
  });

  it("adds each called tool's scopes to the server-wide ones", () => {
    expect(scopesForRequest(undefined, policy)).toEqual({ scopes: ["mcp"], tools: [] });
    expect(scopesForRequest(call("whoami"), policy)).toEqual({ scopes: ["mcp"], tools: ["whoami"] });
    expect(scopesForRequest(call("write_note"), policy)).toEqual({
      scopes: ["mcp", "notes:write"],
      tools: ["write_note"],
    });
    expect(scopesForRequest([call("whoami"), call("admin", 2)], policy)).toEqual({
      scopes: ["mcp", "admin", "notes:write"],
      tools: ["whoami", "admin"],
    });
  });

  it("is not fooled by prototype names", () => {
    expect(scopesForRequest(call("__proto__"), policy).scopes).toEqual(["mcp"]);
    expect(scopesForRequest(call("constructor"), policy).scopes).toEqual(["mcp"]);
  });
});
