import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDescopeMcpAuth, type DescopeMcpAuth } from "../src/index.js";

const BASE_URL = "https://mcp.example.com";

let emu: DescopeEmulator;
let auth: DescopeMcpAuth;
beforeAll(async () => {
  emu = await startDescopeEmulator();
  auth = createDescopeMcpAuth({
    issuerURL: emu.issuerURL,
    baseURL: BASE_URL,
    mcpPath: "/api/v2/mcp",
    requiredScopes: ["mcp:use"],
    toolScopes: { write_note: ["notes:write"] },
    resourceName: "Notes",
    resourceDocumentation: "https://docs.example.com/notes",
  });
});
afterAll(() => emu.close());
beforeEach(() => emu.setFault("all", undefined));

const at = (path: string, method = "GET") => new Request(`${BASE_URL}${path}`, { method });

describe("protected resource metadata", () => {
  const expected = () => ({
    resource: `${BASE_URL}/api/v2/mcp`,
    authorization_servers: [emu.issuerURL],
    bearer_methods_supported: ["header"],
    scopes_supported: ["mcp:use", "notes:write"],
    resource_name: "Notes",
    resource_documentation: "https://docs.example.com/notes",
  });

  it("is served at the path-aware and the root URL with CORS and caching", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/api/v2/mcp", "/.well-known/oauth-protected-resource"]) {
      const r = (await auth.handleMetadata(at(path))) as Response;
      expect(r.status).toBe(200);
      expect(Object.fromEntries(r.headers)).toEqual({
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, HEAD, OPTIONS",
        "access-control-allow-headers": "Authorization, Content-Type, MCP-Protocol-Version",
        "access-control-max-age": "86400",
        "cache-control": "public, max-age=3600",
        "content-type": "application/json",
      });
      expect(await r.json()).toEqual(expected());
    }
    expect(auth.protectedResourceMetadata()).toEqual(expected());
  });

  it("answers HEAD without a body, OPTIONS with 204, other methods with 405 and Allow", async () => {
    const head = (await auth.handleMetadata(at("/.well-known/oauth-protected-resource", "HEAD"))) as Response;
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect(head.headers.get("content-length")).toBe(String(JSON.stringify(expected()).length));
    const options = (await auth.handleMetadata(
      at("/.well-known/oauth-protected-resource/api/v2/mcp", "OPTIONS"),
    )) as Response;
    expect(options.status).toBe(204);
    expect(options.headers.get("access-control-allow-origin")).toBe("*");
    const post = (await auth.handleMetadata(at("/.well-known/oauth-protected-resource", "POST"))) as Response;
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(await post.json()).toEqual({ error: "method_not_allowed", error_description: "POST is not allowed here" });
  });

  it("leaves other paths alone", async () => {
    for (const path of [
      "/mcp",
      "/api/v2/mcp",
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/openid-configuration",
    ]) {
      expect(await auth.handleMetadata(at(path))).toBeUndefined();
    }
    expect(auth.isMetadataPath("/.well-known/oauth-protected-resource/api/v2/mcp")).toBe(true);
    expect(auth.isMetadataPath("/health")).toBe(false);
  });
});

describe("authorization server metadata forwarding", () => {
  it("forwards Descope's document, fetched once", async () => {
    emu.clearRequests();
    const fresh = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    const [a, b] = await Promise.all([
      fresh.handleMetadata(at("/.well-known/oauth-authorization-server")),
      fresh.handleMetadata(at("/.well-known/oauth-authorization-server")),
    ]);
    const doc = await (a as Response).json();
    expect(doc.issuer).toBe(emu.issuerURL);
    expect(doc.registration_endpoint).toBe(
      `${emu.baseURL}/v1/mgmt/mcp/client/${emu.projectId}/${emu.mcpServerId}/register`,
    );
    expect(await (b as Response).json()).toEqual(doc);
    expect((a as Response).headers.get("access-control-allow-origin")).toBe("*");
    expect(emu.requests.filter((r) => r.path.includes(".well-known")).length).toBe(1);
  });

  it("answers 503 with Retry-After when Descope is down, time-boxed", async () => {
    const fresh = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, timeouts: { discovery: 150 } });
    emu.setFault("discovery", { delayMs: 3000 });
    const r = (await fresh.handleMetadata(at("/.well-known/oauth-authorization-server"))) as Response;
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("5");
    expect(r.headers.get("www-authenticate")).toBeNull();
    expect(await r.json()).toEqual({
      error: "temporarily_unavailable",
      error_description: "Descope discovery document did not answer within 150 ms",
    });
  });
});
