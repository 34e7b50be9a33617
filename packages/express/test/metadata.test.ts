import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_URL, FLAVORS, listen, type Running } from "./helpers.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: `${BASE_URL}/api/v2/mcp` });
});
afterAll(() => emu.close());

const METADATA_CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, OPTIONS",
  "access-control-allow-headers": "Authorization, Content-Type, MCP-Protocol-Version",
  "access-control-max-age": "86400",
};

function pick(headers: Headers, names: string[]): Record<string, string | null> {
  return Object.fromEntries(names.map((n) => [n, headers.get(n)]));
}

describe.each(FLAVORS)("metadata routes on $name", ({ express, adapter }) => {
  let custom: Running; // mcpPath /api/v2/mcp
  let standard: Running; // default mcpPath /mcp
  let prm: Record<string, unknown>;

  beforeAll(async () => {
    const app = express();
    app.get("/.well-known/openid-configuration", (_req, res) => {
      res.json({ served_by: "app" });
    });
    app.use(
      adapter.descopeMcpAuth({
        issuerURL: emu.issuerURL,
        baseURL: BASE_URL,
        mcpPath: "/api/v2/mcp",
        requiredScopes: ["mcp:use"],
        toolScopes: { write_note: ["notes:write"] },
        resourceName: "Notes",
        resourceDocumentation: "https://docs.example.com/notes",
      }),
    );
    app.get("/after", (_req, res) => {
      res.json({ served_by: "app" });
    });
    custom = await listen(app);

    const app2 = express();
    app2.use(adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL }));
    standard = await listen(app2);

    prm = {
      resource: `${BASE_URL}/api/v2/mcp`,
      authorization_servers: [emu.issuerURL],
      bearer_methods_supported: ["header"],
      scopes_supported: ["mcp:use", "notes:write"],
      resource_name: "Notes",
      resource_documentation: "https://docs.example.com/notes",
    };
  });
  afterAll(async () => {
    await custom.close();
    await standard.close();
  });

  it("serves the path-aware protected resource metadata for the configured mcpPath", async () => {
    const res = await fetch(`${custom.url}/.well-known/oauth-protected-resource/api/v2/mcp`);
    expect(res.status).toBe(200);
    expect(pick(res.headers, [...Object.keys(METADATA_CORS), "content-type", "cache-control"])).toEqual({
      ...METADATA_CORS,
      "content-type": "application/json",
      "cache-control": "public, max-age=3600",
    });
    expect(await res.json()).toEqual(prm);
  });

  it("serves the same document at the root well-known URL for older clients", async () => {
    const res = await fetch(`${custom.url}/.well-known/oauth-protected-resource`);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toEqual(prm);
  });

  it("serves the default /mcp resource's metadata at /.well-known/oauth-protected-resource/mcp", async () => {
    const res = await fetch(`${standard.url}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: `${BASE_URL}/mcp`,
      authorization_servers: [emu.issuerURL],
      bearer_methods_supported: ["header"],
      scopes_supported: ["openid"], // the default first-sign-in scope is advertised too
    });
  });

  it("forwards Descope's authorization server metadata byte-identical in content", async () => {
    const upstream = (await (await fetch(emu.wellKnownURL)).json()) as Record<string, unknown>;
    const res = await fetch(`${custom.url}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(pick(res.headers, ["access-control-allow-origin", "content-type", "cache-control"])).toEqual({
      "access-control-allow-origin": "*",
      "content-type": "application/json",
      "cache-control": "public, max-age=3600",
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual(upstream);
    expect(body.issuer).toBe(emu.issuerURL);
  });

  it("answers HEAD with the headers and length of GET and no body", async () => {
    const get = await fetch(`${custom.url}/.well-known/oauth-protected-resource/api/v2/mcp`);
    const getBody = await get.text();
    const head = await fetch(`${custom.url}/.well-known/oauth-protected-resource/api/v2/mcp`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(Buffer.byteLength(getBody)));
    expect(head.headers.get("content-type")).toBe("application/json");
    expect(head.headers.get("access-control-allow-origin")).toBe("*");
    expect(await head.text()).toBe("");
  });

  it.each([
    "/.well-known/oauth-protected-resource/api/v2/mcp",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-authorization-server",
  ])("answers a CORS preflight on %s with 204, never 401", async (path) => {
    const res = await fetch(`${custom.url}${path}`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "GET" },
    });
    expect(res.status).toBe(204);
    expect(pick(res.headers, Object.keys(METADATA_CORS))).toEqual(METADATA_CORS);
    expect(res.headers.get("www-authenticate")).toBeNull();
    expect(await res.text()).toBe("");
  });

  it.each(["POST", "PUT", "DELETE", "PATCH"])("answers %s with 405 and Allow", async (method) => {
    for (const path of [
      "/.well-known/oauth-protected-resource/api/v2/mcp",
      "/.well-known/oauth-authorization-server",
    ]) {
      const res = await fetch(`${custom.url}${path}`, { method, body: method === "DELETE" ? undefined : "{}" });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(await res.json()).toEqual({
        error: "method_not_allowed",
        error_description: `${method} is not allowed here`,
      });
    }
  });

  it("lets every other path fall through to the app", async () => {
    // The default resource's PRM path is not this server's (its resource is /api/v2/mcp).
    const other = await fetch(`${custom.url}/.well-known/oauth-protected-resource/mcp`);
    expect(other.status).toBe(404);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const sub = await fetch(`${custom.url}/.well-known/oauth-protected-resource/api/v2/mcp/extra`);
    expect(sub.status).toBe(404);
    // The app's own well-known route, registered before the router, and a route after it.
    const oidc = await fetch(`${custom.url}/.well-known/openid-configuration`);
    expect(oidc.status).toBe(200);
    expect(await oidc.json()).toEqual({ served_by: "app" });
    const after = await fetch(`${custom.url}/after`);
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ served_by: "app" });
  });

  it("answers 503 without a challenge when Descope's metadata cannot be fetched", async () => {
    const app = express();
    app.use(
      adapter.descopeMcpAuth({
        issuerURL: emu.issuerURL,
        baseURL: BASE_URL,
        failureBackoffSeconds: 0,
        timeouts: { discovery: 1000 },
      }),
    );
    const server = await listen(app);
    emu.setFault("discovery", { status: 500 });
    try {
      const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
      expect(res.status).toBe(503);
      expect(res.headers.get("www-authenticate")).toBeNull();
      expect(res.headers.get("retry-after")).toBe("5");
      expect(await res.json()).toEqual({
        error: "temporarily_unavailable",
        error_description: "Descope discovery document answered HTTP 500",
      });
    } finally {
      emu.setFault("discovery", undefined);
      await server.close();
    }
  });
});
