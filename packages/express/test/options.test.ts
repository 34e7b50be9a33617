import { ConfigurationError, createDescopeMcpAuth } from "@descope-mcp/core";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_URL, FLAVORS, listen, postMcp, toolCall } from "./helpers.js";

const RESOURCE = `${BASE_URL}/mcp`;

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
});
afterAll(() => emu.close());

describe.each(FLAVORS)("descopeMcpAuth() options on $name", ({ express, adapter }) => {
  it("uses an existing core engine as is, and exposes it as router.auth", async () => {
    const engine = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      requiredScopes: ["mcp:use"],
    });
    const router = adapter.descopeMcpAuth(engine);
    expect(router.auth).toBe(engine);
    expect(Object.getOwnPropertyDescriptor(router, "auth")?.writable).toBe(false);

    const app = express();
    app.use(router);
    app.post("/mcp", (_req, res) => {
      res.json({ reached: true });
    });
    const server = await listen(app);
    try {
      const denied = await fetch(`${server.url}/mcp`, { method: "POST" });
      expect(denied.status).toBe(401);
      expect(denied.headers.get("www-authenticate")).toBe(
        `Bearer scope="mcp:use", resource_metadata="${BASE_URL}/.well-known/oauth-protected-resource/mcp"`,
      );
      const ok = await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: { authorization: `Bearer ${await emu.mintToken({ scope: "mcp:use" })}` },
      });
      expect(ok.status).toBe(200);
      // The one engine did the work: its JWKS was fetched once, through this router.
      expect(engine.stats().jwksFetches).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("builds an engine from options, reachable as router.auth", async () => {
    const router = adapter.descopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      mcpPath: "/rpc",
      toolScopes: { write_note: ["notes:write"] },
    });
    expect(router.auth.config.resourceURL).toBe(`${BASE_URL}/rpc`);
    expect(router.auth.config.resourceMetadataURL).toBe(`${BASE_URL}/.well-known/oauth-protected-resource/rpc`);
    expect(router.auth.config.issuer.issuer).toBe(emu.issuerURL);
    const session = await router.auth.verifyToken(await emu.mintToken({ aud: `${BASE_URL}/rpc`, sub: "U-opts" }));
    expect(session.userId).toBe("U-opts");
    expect(router.auth.scopesFor(toolCall("write_note"))).toEqual(["notes:write"]);
  });

  it.each([
    [{ issuerURL: "https://api.descope.com/v1/apps/agentic/P2abc/M2xyz" }, "baseURL", "baseURL is required"],
    [{ baseURL: "not a url" }, "baseURL", "baseURL must be an absolute http(s) URL"],
    [
      { baseURL: BASE_URL, mcpPath: "mcp" },
      "mcpPath",
      "mcpPath must be a path starting with '/', of letters, digits, '.', '_', '~', '-' and '/'",
    ],
    [
      { baseURL: BASE_URL, algorithms: ["HS256"] },
      "algorithms",
      "algorithms.0 must list only asymmetric algorithms (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519)",
    ],
    [{ baseURL: BASE_URL, tokenScopes: {} }, "tokenScopes", "Unknown option 'tokenScopes'"],
  ] as const)("throws ConfigurationError at construction for %j", (partial, field, message) => {
    const options = { issuerURL: emu.issuerURL, ...partial } as Parameters<typeof adapter.descopeMcpAuth>[0];
    let thrown: unknown;
    try {
      adapter.descopeMcpAuth(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).field).toBe(field);
    expect((thrown as Error).message).toBe(message);
  });

  it("bodyLimit bounds the body the gate parses itself", async () => {
    const app = express();
    app.use(
      adapter.descopeMcpAuth(
        { issuerURL: emu.issuerURL, baseURL: BASE_URL, toolScopes: { write_note: ["notes:write"] } },
        { bodyLimit: 256 },
      ),
    );
    app.post("/mcp", (req, res) => {
      res.json({ body: req.body as unknown });
    });
    const server = await listen(app);
    try {
      const token = await emu.mintToken({ scope: "notes:write" });
      const small = await postMcp(`${server.url}/mcp`, toolCall("write_note"), token);
      expect(small.status).toBe(200);
      expect(await small.json()).toEqual({ body: toolCall("write_note") });
      const big = await postMcp(`${server.url}/mcp`, toolCall("write_note", 1, { text: "x".repeat(300) }), token);
      expect(big.status).toBe(413);
      expect(big.headers.get("connection")).toBe("close");
      expect(await big.json()).toEqual({
        error: "invalid_request",
        error_description: "The request body is larger than 256 bytes",
      });
    } finally {
      await server.close();
    }
  });
});
