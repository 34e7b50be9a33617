import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DescopeEmulator, startDescopeEmulator } from "../src/index.js";
import {
  authorizeRaw,
  endpoints,
  getCode,
  nowSeconds,
  payload,
  pkce,
  REDIRECT_URI,
  RESOURCE,
  registerClient,
  tokenRequest,
} from "./helpers.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator();
});
afterAll(() => emu.close());

describe("dynamic client registration", () => {
  it("registers a public client (201, echoes metadata, no secret)", async () => {
    const res = await fetch(endpoints(emu).register, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], client_name: "My MCP client", scope: "openid notes:read" }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      client_id: expect.stringMatching(/^emu_client_/),
      client_id_issued_at: expect.any(Number),
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      client_name: "My MCP client",
      scope: "openid notes:read",
    });
    expect(Math.abs((body.client_id_issued_at as number) - nowSeconds())).toBeLessThanOrEqual(2);
  });

  it("issues a secret to confidential clients", async () => {
    for (const method of ["client_secret_post", "client_secret_basic"]) {
      const body = await registerClient(emu, { token_endpoint_auth_method: method });
      expect(body).toMatchObject({ token_endpoint_auth_method: method, client_secret_expires_at: 0 });
      expect(body.client_secret).toMatch(/^emu_secret_/);
    }
  });

  it.each([
    ["missing redirect_uris", { client_name: "x" }, "invalid_redirect_uri"],
    ["empty redirect_uris", { redirect_uris: [] }, "invalid_redirect_uri"],
    ["redirect_uris not an array", { redirect_uris: REDIRECT_URI }, "invalid_redirect_uri"],
    ["relative redirect URI", { redirect_uris: ["/callback"] }, "invalid_redirect_uri"],
    ["redirect URI with a fragment", { redirect_uris: ["https://a.example/cb#x"] }, "invalid_redirect_uri"],
    [
      "unknown auth method",
      { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "private_key_jwt" },
      "invalid_client_metadata",
    ],
    ["unsupported grant type", { redirect_uris: [REDIRECT_URI], grant_types: ["implicit"] }, "invalid_client_metadata"],
    [
      "unsupported response type",
      { redirect_uris: [REDIRECT_URI], response_types: ["token"] },
      "invalid_client_metadata",
    ],
    ["non-object body", [REDIRECT_URI], "invalid_client_metadata"],
  ])("rejects %s with 400 %s", async (_name, body, error) => {
    const res = await fetch(endpoints(emu).register, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toEqual({ error, error_description: expect.any(String) });
  });

  it("rejects a body that is not JSON", async () => {
    const res = await fetch(endpoints(emu).register, { method: "POST", body: "redirect_uris=x" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_client_metadata");
  });
});

describe("authorize", () => {
  let clientId: string;
  beforeAll(async () => {
    clientId = (await registerClient(emu)).client_id;
  });

  it("consents at once: 302 to the redirect URI with code, state and iss", async () => {
    const { challenge } = pkce();
    const res = await authorizeRaw(emu, {
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      scope: "openid",
      state: "s t&ate",
      resource: RESOURCE,
    });
    expect(res.status).toBe(302);
    const raw = res.headers.get("location") as string;
    expect(raw.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    expect(raw).toContain(`iss=${encodeURIComponent(emu.issuerURL)}`);
    const location = new URL(raw);
    expect([...location.searchParams.keys()]).toEqual(["code", "state", "iss"]);
    expect(location.searchParams.get("code")).toMatch(/^emu_code_/);
    expect(location.searchParams.get("state")).toBe("s t&ate");
    expect(location.searchParams.get("iss")).toBe(emu.issuerURL);
  });

  it("uses the only registered redirect URI when none is sent and keeps its query", async () => {
    const id = (await registerClient(emu, { redirect_uris: ["http://127.0.0.1:9999/cb?tenant=a"] })).client_id;
    const { challenge } = pkce();
    const res = await authorizeRaw(emu, {
      client_id: id,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") as string);
    expect(location.origin + location.pathname).toBe("http://127.0.0.1:9999/cb");
    expect(location.searchParams.get("tenant")).toBe("a");
    expect(location.searchParams.get("code")).toBeTruthy();
  });

  it.each([
    ["missing client_id", { client_id: undefined }, "invalid_request"],
    ["unknown client_id", { client_id: "nope" }, "invalid_client"],
    ["unregistered redirect_uri", { redirect_uri: "http://127.0.0.1:9999/other" }, "invalid_request"],
    ["redirect_uri differing by a trailing slash", { redirect_uri: `${REDIRECT_URI}/` }, "invalid_request"],
  ])("answers 400 JSON (never a redirect) for %s", async (_name, override, error) => {
    const { challenge } = pkce();
    const res = await authorizeRaw(emu, {
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      ...override,
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.json()).toEqual({ error, error_description: expect.any(String) });
  });

  it.each([
    ["missing response_type", { response_type: undefined }, "invalid_request"],
    ["response_type=token", { response_type: "token" }, "unsupported_response_type"],
    ["missing code_challenge", { code_challenge: undefined }, "invalid_request"],
    ["missing code_challenge_method", { code_challenge_method: undefined }, "invalid_request"],
    ["code_challenge_method=plain", { code_challenge_method: "plain" }, "invalid_request"],
    ["malformed code_challenge", { code_challenge: "short" }, "invalid_request"],
    ["relative resource", { resource: "/mcp" }, "invalid_target"],
  ])("redirects with an error for %s", async (_name, override, error) => {
    const { challenge } = pkce();
    const res = await authorizeRaw(emu, {
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "st",
      ...override,
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") as string);
    expect(location.origin + location.pathname).toBe(REDIRECT_URI);
    expect(location.searchParams.get("error")).toBe(error);
    expect(location.searchParams.get("error_description")).toBeTruthy();
    expect(location.searchParams.get("state")).toBe("st");
    expect(location.searchParams.get("iss")).toBe(emu.issuerURL);
    expect(location.searchParams.get("code")).toBeNull();
  });
});

describe("token endpoint: authorization code + PKCE", () => {
  let clientId: string;
  beforeAll(async () => {
    clientId = (await registerClient(emu)).client_id;
  });

  it("exchanges a code for a JWT that verifies against the JWKS with aud = resource", async () => {
    const { code, verifier } = await getCode(emu, clientId, { scope: "openid notes:read" });
    const res = await tokenRequest(emu, {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: clientId,
      resource: RESOURCE,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: "Bearer",
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^emu_rt_/),
      scope: "openid notes:read",
    });
    const { payload: claims, protectedHeader } = await jwtVerify(
      body.access_token as string,
      createRemoteJWKSet(new URL(emu.jwksURL)),
      { issuer: emu.issuerURL, audience: RESOURCE, algorithms: ["RS256"] },
    );
    expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(claims).toMatchObject({
      iss: emu.issuerURL,
      sub: "U2EmulatorUser0001",
      aud: RESOURCE,
      azp: clientId,
      scope: "openid notes:read",
      email: "ada@example.com",
      loginIds: ["ada@example.com"],
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  });

  it("grants only requested ∩ grantable scopes", async () => {
    emu.setGrantableScopes(["openid", "notes:read"]);
    try {
      const { code, verifier, location } = await getCode(emu, clientId, { scope: "openid notes:read notes:write" });
      expect(location.searchParams.get("code")).toBeTruthy();
      const res = await tokenRequest(emu, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        client_id: clientId,
      });
      const body = (await res.json()) as { scope: string; access_token: string };
      expect(body.scope).toBe("openid notes:read");
      expect(payload(body.access_token).scope).toBe("openid notes:read");
    } finally {
      emu.setGrantableScopes(undefined);
    }
  });

  it("uses the project ID as aud without a resource", async () => {
    const { code, verifier } = await getCode(emu, clientId, { resource: undefined });
    const res = await tokenRequest(emu, {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: clientId,
    });
    expect(res.status).toBe(200);
    expect(payload(((await res.json()) as { access_token: string }).access_token).aud).toBe(emu.projectId);
  });

  it("answers invalid_grant for a wrong verifier and for a reused code", async () => {
    const { code } = await getCode(emu, clientId);
    const wrong = await tokenRequest(emu, {
      grant_type: "authorization_code",
      code,
      code_verifier: pkce().verifier,
      redirect_uri: REDIRECT_URI,
      client_id: clientId,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get("cache-control")).toBe("no-store");
    expect(await wrong.json()).toEqual({ error: "invalid_grant", error_description: "PKCE verification failed" });

    const second = await getCode(emu, clientId);
    const form = {
      grant_type: "authorization_code",
      code: second.code,
      code_verifier: second.verifier,
      redirect_uri: REDIRECT_URI,
      client_id: clientId,
    };
    expect((await tokenRequest(emu, form)).status).toBe(200);
    const reuse = await tokenRequest(emu, form);
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toEqual({
      error: "invalid_grant",
      error_description: "Authorization code was already used",
    });
  });

  it("revokes refresh tokens issued from a code that is replayed", async () => {
    const { code, verifier } = await getCode(emu, clientId);
    const form = {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: clientId,
    };
    const first = (await (await tokenRequest(emu, form)).json()) as { refresh_token: string };
    expect((await tokenRequest(emu, form)).status).toBe(400);
    const refresh = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
      client_id: clientId,
    });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe("invalid_grant");
  });

  it.each([
    ["a different redirect_uri", { redirect_uri: "http://127.0.0.1:9999/other" }, 400, "invalid_grant"],
    ["no redirect_uri", { redirect_uri: undefined }, 400, "invalid_request"],
    ["a different resource", { resource: "https://other.example/mcp" }, 400, "invalid_target"],
    ["no code_verifier", { code_verifier: undefined }, 400, "invalid_request"],
    ["an unknown code", { code: "emu_code_nope" }, 400, "invalid_grant"],
    ["no code", { code: undefined }, 400, "invalid_request"],
    ["an unknown client", { client_id: "nope" }, 401, "invalid_client"],
    ["no client_id", { client_id: undefined }, 401, "invalid_client"],
    ["grant_type=password", { grant_type: "password" }, 400, "unsupported_grant_type"],
    ["no grant_type", { grant_type: undefined }, 400, "invalid_request"],
  ])("refuses %s", async (_name, override, status, error) => {
    const { code, verifier } = await getCode(emu, clientId);
    const res = await tokenRequest(emu, {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: clientId,
      resource: RESOURCE,
      ...override,
    });
    expect(res.status).toBe(status);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ error, error_description: expect.any(String) });
  });

  it("refuses a code issued to another client", async () => {
    const other = (await registerClient(emu)).client_id;
    const { code, verifier } = await getCode(emu, clientId);
    const res = await tokenRequest(emu, {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: other,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_grant");
  });

  it("refuses a JSON body", async () => {
    const res = await fetch(endpoints(emu).token, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "authorization_code" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("authenticates confidential clients with client_secret_post and client_secret_basic", async () => {
    const post = await registerClient(emu, { token_endpoint_auth_method: "client_secret_post" });
    const a = await getCode(emu, post.client_id);
    const base = { grant_type: "authorization_code", redirect_uri: REDIRECT_URI };
    const bad = await tokenRequest(emu, {
      ...base,
      code: a.code,
      code_verifier: a.verifier,
      client_id: post.client_id,
      client_secret: "wrong",
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toBe("invalid_client");
    const a2 = await getCode(emu, post.client_id);
    const good = await tokenRequest(emu, {
      ...base,
      code: a2.code,
      code_verifier: a2.verifier,
      client_id: post.client_id,
      client_secret: post.client_secret,
    });
    expect(good.status).toBe(200);

    const basic = await registerClient(emu, { token_endpoint_auth_method: "client_secret_basic" });
    const b = await getCode(emu, basic.client_id);
    const creds = Buffer.from(`${basic.client_id}:${basic.client_secret}`).toString("base64");
    const ok = await tokenRequest(
      emu,
      { ...base, code: b.code, code_verifier: b.verifier },
      { authorization: `Basic ${creds}` },
    );
    expect(ok.status).toBe(200);
    expect(payload(((await ok.json()) as { access_token: string }).access_token).azp).toBe(basic.client_id);

    const b2 = await getCode(emu, basic.client_id);
    const noSecret = await tokenRequest(emu, {
      ...base,
      code: b2.code,
      code_verifier: b2.verifier,
      client_id: basic.client_id,
    });
    expect(noSecret.status).toBe(401);
    const wrongBasic = Buffer.from(`${basic.client_id}:nope`).toString("base64");
    const denied = await tokenRequest(
      emu,
      { ...base, code: b2.code, code_verifier: b2.verifier },
      { authorization: `Basic ${wrongBasic}` },
    );
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toBe('Basic realm="emulator"');
  });
});

describe("token endpoint: refresh", () => {
  it("rotates refresh tokens, narrows scope on request, keeps aud", async () => {
    const { client_id } = await registerClient(emu);
    const { code, verifier } = await getCode(emu, client_id, { scope: "openid notes:read notes:write" });
    const first = (await (
      await tokenRequest(emu, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        client_id,
      })
    ).json()) as { refresh_token: string; access_token: string };

    const r1 = await tokenRequest(emu, { grant_type: "refresh_token", refresh_token: first.refresh_token, client_id });
    expect(r1.status).toBe(200);
    const second = (await r1.json()) as Record<string, string>;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.scope).toBe("openid notes:read notes:write");
    expect(payload(second.access_token as string)).toMatchObject({
      aud: RESOURCE,
      azp: client_id,
      sub: "U2EmulatorUser0001",
    });

    const reuse = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
      client_id,
    });
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toEqual({
      error: "invalid_grant",
      error_description: "Refresh token was revoked or already used",
    });

    // replaying a rotated token revoked the whole family
    const afterReplay = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: second.refresh_token as string,
      client_id,
    });
    expect(afterReplay.status).toBe(400);
  });

  it("accepts a narrower scope and refuses a wider one", async () => {
    const { client_id } = await registerClient(emu);
    const { code, verifier } = await getCode(emu, client_id, { scope: "openid notes:read notes:write" });
    const first = (await (
      await tokenRequest(emu, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        client_id,
      })
    ).json()) as { refresh_token: string };
    const wider = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
      client_id,
      scope: "openid admin",
    });
    expect(wider.status).toBe(400);
    expect(((await wider.json()) as { error: string }).error).toBe("invalid_scope");
    const narrower = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
      client_id,
      scope: "notes:read",
    });
    expect(narrower.status).toBe(200);
    const body = (await narrower.json()) as { scope: string; access_token: string; refresh_token: string };
    expect(body.scope).toBe("notes:read");
    expect(payload(body.access_token)).toMatchObject({ scope: "notes:read", aud: RESOURCE });
    const wrongResource = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: body.refresh_token,
      client_id,
      resource: "https://other.example/mcp",
    });
    expect(wrongResource.status).toBe(400);
    expect(((await wrongResource.json()) as { error: string }).error).toBe("invalid_target");
  });

  it("refuses unknown or missing refresh tokens", async () => {
    const { client_id } = await registerClient(emu);
    const unknown = await tokenRequest(emu, { grant_type: "refresh_token", refresh_token: "nope", client_id });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toBe("invalid_grant");
    const missing = await tokenRequest(emu, { grant_type: "refresh_token", client_id });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toBe("invalid_request");
  });
});

describe("options", () => {
  it("honours audience, ttl and the login user", async () => {
    const other = await startDescopeEmulator({
      audience: "https://console-configured.example/mcp",
      accessTokenTtlSeconds: 120,
      user: { userId: "U2Grace", email: "grace@example.com", roles: ["admin"] },
    });
    try {
      const { client_id } = await registerClient(other);
      const { code, verifier } = await getCode(other, client_id, { resource: undefined });
      const body = (await (
        await tokenRequest(other, {
          grant_type: "authorization_code",
          code,
          code_verifier: verifier,
          redirect_uri: REDIRECT_URI,
          client_id,
        })
      ).json()) as { access_token: string; expires_in: number };
      expect(body.expires_in).toBe(120);
      expect(payload(body.access_token)).toMatchObject({
        aud: "https://console-configured.example/mcp",
        sub: "U2Grace",
        email: "grace@example.com",
        roles: ["admin"],
        loginIds: ["ada@example.com"],
      });
    } finally {
      await other.close();
    }
  });
});
