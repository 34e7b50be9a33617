import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DescopeEmulator, startDescopeEmulator } from "../src/index.js";
import { header } from "./helpers.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ scopesSupported: ["notes:read", "notes:write", "openid"] });
});
afterAll(() => emu.close());

describe("identity and URLs", () => {
  it("uses valid-looking defaults and Descope's URL shapes", () => {
    expect(emu.projectId).toBe("P2EmuLat0rPr0jectId000000001");
    expect(emu.projectId).toHaveLength(28);
    expect(emu.mcpServerId).toBe("MEmulat0rMcpServer0000000001");
    expect(emu.managementKey).toBe("emulator-management-key");
    expect(emu.baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.baseURL).not.toBe("http://127.0.0.1:0");
    expect(emu.issuerURL).toBe(`${emu.baseURL}/v1/apps/agentic/${emu.projectId}/${emu.mcpServerId}`);
    expect(emu.wellKnownURL).toBe(`${emu.issuerURL}/.well-known/openid-configuration`);
    expect(emu.jwksURL).toBe(`${emu.baseURL}/${emu.projectId}/.well-known/jwks.json`);
  });

  it("rejects a project ID that is not a path segment", async () => {
    await expect(startDescopeEmulator({ projectId: "P/x" })).rejects.toThrow(/projectId/);
  });
});

describe("discovery", () => {
  const expected = () => {
    const b = emu.baseURL;
    const p = emu.projectId;
    const m = emu.mcpServerId;
    return {
      issuer: emu.issuerURL,
      authorization_endpoint: `${b}/oauth2/v1/apps/agentic/${p}/${m}/authorize`,
      token_endpoint: `${b}/oauth2/v1/apps/agentic/${p}/${m}/token`,
      registration_endpoint: `${b}/v1/mgmt/mcp/client/${p}/${m}/register`,
      jwks_uri: emu.jwksURL,
      scopes_supported: ["openid", "profile", "email", "outbound.token.fetch", "notes:read", "notes:write"],
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none", "client_secret_post", "client_secret_basic"],
      id_token_signing_alg_values_supported: ["RS256"],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    };
  };

  const paths = () => {
    const issuerPath = `/v1/apps/agentic/${emu.projectId}/${emu.mcpServerId}`;
    return [
      emu.wellKnownURL,
      `${emu.baseURL}/.well-known/openid-configuration${issuerPath}`,
      `${emu.baseURL}/.well-known/oauth-authorization-server${issuerPath}`,
      `${emu.issuerURL}/.well-known/oauth-authorization-server`,
    ];
  };

  it("serves the same document at all four paths", async () => {
    for (const url of paths()) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(await res.json()).toEqual(expected());
    }
  });

  it("answers HEAD without a body and refuses other methods with 405 + Allow", async () => {
    const head = await fetch(emu.wellKnownURL, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await fetch(emu.wellKnownURL, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers OPTIONS preflight with 204", async () => {
    const res = await fetch(emu.wellKnownURL, {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "GET" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("answers 404 JSON for unknown paths, including other servers and trailing slashes", async () => {
    for (const path of [
      "/nope",
      `/v1/apps/agentic/${emu.projectId}/MOtherServer/.well-known/openid-configuration`,
      `/v1/apps/agentic/${emu.projectId}/${emu.mcpServerId}/.well-known/openid-configuration/`,
      "/.well-known/openid-configuration",
    ]) {
      const res = await fetch(`${emu.baseURL}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({
        errorCode: "E011005",
        errorDescription: "Not found",
        errorMessage: `The emulator serves nothing at ${path}`,
      });
    }
  });
});

describe("JWKS", () => {
  it("publishes the public key at both paths", async () => {
    const a = await fetch(emu.jwksURL);
    const b = await fetch(`${emu.baseURL}/v2/keys/${emu.projectId}`);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const jwks = (await a.json()) as { keys: Record<string, unknown>[] };
    expect(await b.json()).toEqual(jwks);
    expect(jwks.keys).toHaveLength(1);
    const [key] = jwks.keys;
    expect(Object.keys(key ?? {}).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
    expect(key).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
    expect(typeof key?.kid).toBe("string");
    expect(header(await emu.mintToken()).kid).toBe(key?.kid);
  });

  it("rotates: old and new keys published, then the old one retired", async () => {
    const other = await startDescopeEmulator();
    try {
      const before = await other.mintToken();
      const oldKid = header(before).kid;
      await other.rotateKeys();
      const after = await other.mintToken();
      const newKid = header(after).kid;
      expect(newKid).not.toBe(oldKid);

      const rotated = (await (await fetch(other.jwksURL)).json()) as { keys: { kid: string }[] };
      expect(rotated.keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
      const remote = createRemoteJWKSet(new URL(other.jwksURL));
      await expect(jwtVerify(before, remote)).resolves.toBeDefined();
      await expect(jwtVerify(after, remote)).resolves.toBeDefined();

      other.retireOldKeys();
      const retired = (await (await fetch(`${other.baseURL}/v2/keys/${other.projectId}`)).json()) as {
        keys: { kid: string }[];
      };
      expect(retired.keys.map((k) => k.kid)).toEqual([newKid]);
      const local = createLocalJWKSet(retired as never);
      await expect(jwtVerify(before, local)).rejects.toMatchObject({ code: "ERR_JWKS_NO_MATCHING_KEY" });
      await expect(jwtVerify(after, local)).resolves.toBeDefined();
    } finally {
      await other.close();
    }
  });
});
