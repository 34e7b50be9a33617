import { ConfigurationError, NoSessionError } from "@descope-mcp/core";
import { describe, expect, it } from "vitest";
import {
  descopeProvider,
  fetchConnectionToken,
  getClient,
  getDescopeSession,
  getManagementClient,
  getSession,
  getUser,
} from "../src/index.js";

const issuerURL = "https://api.euc1.descope.com/v1/apps/agentic/Peuc12abcdefghijklmnopqrstuvwxyz/M1";

describe("accessors outside a request", () => {
  it("throw a typed NoSessionError (code no_session) that names the call", async () => {
    for (const read of [getSession, getDescopeSession]) {
      expect(read).toThrow(NoSessionError);
    }
    expect(() => getSession()).toThrow(/getSession\(\) called outside of a request authenticated by descopeProvider/);
    await expect(getUser()).rejects.toMatchObject({ code: "no_session" });
    await expect(fetchConnectionToken("google-calendar")).rejects.toMatchObject({ code: "no_session" });
  });
});

describe("descopeProvider", () => {
  it("returns xmcp's { middleware, router } form: a 3-parameter middleware and a router xmcp accepts", () => {
    const p = descopeProvider({ issuerURL, baseURL: "http://127.0.0.1:3001" });
    expect(p.middleware).toHaveLength(3);
    // xmcp keeps a provider only when its router is a function with use/get/post/route.
    for (const m of ["use", "get", "post", "route"] as const) expect(typeof p.router[m]).toBe("function");
    expect(() => p.router.get("/x", () => undefined)).toThrow(ConfigurationError);
    // Outside an xmcp build there is no HTTP_CONFIG: mcpPath is the option, else /mcp.
    expect(p.auth.config.mcpPath).toBe("/mcp");
    expect(
      descopeProvider({ issuerURL, baseURL: "http://127.0.0.1:3001", mcpPath: "/a/mcp" }).auth.config.mcpPath,
    ).toBe("/a/mcp");
  });

  it("answers expired tokens with @xmcp-dev/descope's body value unless told otherwise", () => {
    expect(descopeProvider({ issuerURL, baseURL: "http://127.0.0.1:3001" }).auth.config.expiredTokenError).toBe(
      "token_expired",
    );
    expect(
      descopeProvider({ issuerURL, baseURL: "http://127.0.0.1:3001", expiredTokenError: "invalid_token" }).auth.config
        .expiredTokenError,
    ).toBe("invalid_token");
  });
});

describe("getClient / getManagementClient (@descope/node-sdk, an optional peer loaded on first use)", () => {
  it("builds the node-sdk client for the project's own API base (region from the issuer)", () => {
    descopeProvider({ issuerURL, baseURL: "http://127.0.0.1:3001" });
    const client = getClient();
    expect(typeof client.management).toBe("object");
    expect(getClient()).toBe(client);
    expect(() => getManagementClient()).toThrow(/managementKey/);
    descopeProvider({ issuerURL, baseURL: "http://127.0.0.1:3001", managementKey: "K2secret" });
    expect(typeof getManagementClient().user).toBe("object");
  });
});
