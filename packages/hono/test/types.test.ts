// Compile-time checks (tsc runs over the tests): the variables the middleware sets are typed.
import type { DescopeSession, McpAuthInfo } from "@descope-mcp/core";
import { Hono } from "hono";
import { describe, expectTypeOf, it } from "vitest";
import { type DescopeMcpEnv, descopeMcpAuth, mcpHandler } from "../src/index.js";

const gate = descopeMcpAuth({
  issuerURL: "https://api.descope.com/P2abcdefghijklmnopqrstuvwxyz",
  baseURL: "http://127.0.0.1:3000",
});

describe("types", () => {
  it("types c.get('auth') and c.get('session') on a Hono<DescopeMcpEnv>, also with Bindings", () => {
    new Hono<DescopeMcpEnv>().use(gate).post("/mcp", (c) => {
      expectTypeOf(c.get("auth")).toEqualTypeOf<McpAuthInfo>();
      expectTypeOf(c.var.session).toEqualTypeOf<DescopeSession>();
      expectTypeOf(c.get("parsedBody")).toEqualTypeOf<unknown>();
      return c.text("ok");
    });
    new Hono<DescopeMcpEnv & { Bindings: { BASE_URL: string } }>().use(gate).post("/mcp", (c) => {
      expectTypeOf(c.env.BASE_URL).toEqualTypeOf<string>();
      expectTypeOf(c.get("auth")).toEqualTypeOf<McpAuthInfo>();
      return c.text("ok");
    });
  });

  it("types them in a handler after the middleware passed inline, on an untyped app", () => {
    new Hono().post("/mcp", gate, (c) => {
      expectTypeOf(c.get("session")).toEqualTypeOf<DescopeSession>();
      return c.text("ok");
    });
    new Hono().all(
      "/mcp",
      mcpHandler(() => new Response()),
    );
  });
});
