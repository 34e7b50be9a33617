import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDescopeMcpAuth, type DescopeMcpAuth, toAuthInfo } from "../src/index.js";
import { verdictOf } from "./helpers.js";

const BASE_URL = "https://mcp.example.com";
const RESOURCE = `${BASE_URL}/mcp`;

let emu: DescopeEmulator;
let auth: DescopeMcpAuth;

beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
  auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
});
afterAll(() => emu.close());

describe("verifyToken", () => {
  it("maps a valid token to a session", async () => {
    const token = await emu.mintToken({
      scope: "openid notes:read",
      email: "ada@example.com",
      loginIds: ["ada@example.com"],
      roles: ["admin"],
      permissions: ["read"],
      tenants: { T1: { roles: ["owner"], permissions: ["write"] }, T2: "junk" },
      dct: "T1",
      azp: "client-1",
    });
    const session = await auth.verifyToken(token);
    const claims = session.claims as { exp: number; iat: number };
    expect(session).toEqual({
      userId: "U2EmulatorUser0001",
      email: "ada@example.com",
      token,
      loginIds: ["ada@example.com"],
      scopes: ["openid", "notes:read"],
      permissions: ["read"],
      roles: ["admin"],
      tenants: { T1: { roles: ["owner"], permissions: ["write"] }, T2: { roles: [], permissions: [] } },
      currentTenant: "T1",
      clientId: "client-1",
      audience: [RESOURCE],
      issuer: emu.issuerURL,
      projectId: emu.projectId,
      resource: RESOURCE,
      expiresAt: new Date(claims.exp * 1000),
      issuedAt: new Date(claims.iat * 1000),
      claims: session.claims,
    });
    expect(Object.isFrozen(session.claims)).toBe(true);
    expect(toAuthInfo(session)).toEqual({
      token,
      clientId: "client-1",
      scopes: ["openid", "notes:read"],
      expiresAt: claims.exp,
      resource: new URL(RESOURCE),
      extra: { session, userId: "U2EmulatorUser0001" },
    });
  });

  it("treats a missing azp as an absent client, not an error", async () => {
    const session = await auth.verifyToken(await emu.mintToken({ azp: undefined }));
    expect(session.clientId).toBeUndefined();
    expect(toAuthInfo(session).clientId).toBe("");
  });

  it("accepts every issuer of the project and audience arrays", async () => {
    for (const iss of [
      `${emu.baseURL}/v1/apps/${emu.projectId}`,
      `${emu.baseURL}/v1/apps/${emu.projectId}/T2tenant`,
      `${emu.baseURL}/${emu.projectId}`,
      emu.projectId,
    ]) {
      expect(await verdictOf(auth.verifyToken(await emu.mintToken({ iss })))).toBe("accepted");
    }
    expect(await verdictOf(auth.verifyToken(await emu.mintToken({ aud: ["other", RESOURCE] })))).toBe("accepted");
  });

  it.each([
    ["expired", "token_expired: The access token expired"],
    ["notYetValid", "invalid_token: The access token is not valid yet (nbf)"],
    ["issuedInFuture", "invalid_token: The access token was issued in the future (iat)"],
    ["missingExp", "invalid_token: The access token has no expiry (exp)"],
    [
      "wrongAudience",
      "invalid_token: The access token was not issued for this resource (audience mismatch): it must be issued for https://mcp.example.com/mcp",
    ],
    ["wrongIssuer", "invalid_token: The access token was issued by an issuer this server does not trust"],
    ["otherProject", "invalid_token: The access token was issued by an issuer this server does not trust"],
    ["otherHost", "invalid_token: The access token was issued by an issuer this server does not trust"],
    ["algNone", "invalid_token: The access token is signed with an algorithm this server does not accept"],
    ["hs256WithPublicKey", "invalid_token: The access token is signed with an algorithm this server does not accept"],
    ["hs512WithPublicKey", "invalid_token: The access token is signed with an algorithm this server does not accept"],
    ["foreignKey", "invalid_token: The access token signature is invalid"],
    ["unknownKid", "invalid_token: The access token was signed by a key this issuer does not publish"],
    ["missingKid", "invalid_token: The access token has no key ID (kid)"],
    ["tampered", "invalid_token: The access token signature is invalid"],
    ["strippedSignature", "invalid_token: The access token signature is invalid"],
    ["truncatedSignature", "invalid_token: The access token signature is invalid"],
    ["critHeader", "invalid_token: The access token has critical header parameters this server does not understand"],
    ["jkuHeader", "invalid_token: The access token was signed by a key this issuer does not publish"],
    ["x5uHeader", "invalid_token: The access token was signed by a key this issuer does not publish"],
    ["jwkHeader", "invalid_token: The access token was signed by a key this issuer does not publish"],
    ["oversized", "invalid_token: The access token is larger than 8192 characters"],
    ["nonJsonPayload", "invalid_token: The access token is malformed"],
    ["nonObjectPayload", "invalid_token: The access token is malformed"],
  ] as const)("refuses %s", async (name, expected) => {
    const make = emu.tokens[name] as () => Promise<string>;
    expect(await verdictOf(auth.verifyToken(await make()))).toBe(expected);
  });

  it.each([
    ["non-numeric exp", { exp: "later" }, "invalid_token: The access token's exp claim is invalid"],
    ["non-numeric nbf", { nbf: "soon" }, "invalid_token: The access token's nbf claim is invalid"],
    ["non-numeric iat", { iat: "now" }, "invalid_token: The access token's iat claim is invalid"],
    ["missing sub", { sub: undefined }, "invalid_token: The access token has no subject (sub)"],
    ["empty sub", { sub: "" }, "invalid_token: The access token has no subject (sub)"],
    ["missing iss", { iss: undefined }, "invalid_token: The access token has no issuer (iss)"],
    [
      "missing aud",
      { aud: undefined },
      "invalid_token: The access token was not issued for this resource (audience mismatch): it must be issued for https://mcp.example.com/mcp",
    ],
    [
      "audience = project ID only",
      { aud: "P2EmuLat0rPr0jectId000000001" },
      "invalid_token: The access token was not issued for this resource (audience mismatch): it must be issued for https://mcp.example.com/mcp",
    ],
  ])("refuses %s", async (_name, claims, expected) => {
    expect(await verdictOf(auth.verifyToken(await emu.mintToken(claims)))).toBe(expected);
  });

  it("honours the clock tolerance at the edges", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await verdictOf(auth.verifyToken(await emu.mintToken({ exp: now - 3 })))).toBe("accepted");
    expect(await verdictOf(auth.verifyToken(await emu.mintToken({ exp: now - 30 })))).toBe(
      "token_expired: The access token expired",
    );
    expect(await verdictOf(auth.verifyToken(await emu.mintToken({ nbf: now + 3 })))).toBe("accepted");
    expect(await verdictOf(auth.verifyToken(await emu.mintToken({ iat: now + 3 })))).toBe("accepted");
  });

  it("refuses junk without fetching anything", async () => {
    const fresh = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    for (const junk of ["", "abc", "a.b", "a.b.c.d", "a..c", "ä.b.c", `${"x".repeat(9000)}.a.b`]) {
      expect(await verdictOf(fresh.verifyToken(junk))).toMatch(/^invalid_token: /);
    }
    expect(fresh.stats()).toMatchObject({ jwksFetches: 0, metadataFetches: 0 });
  });

  it("lets the operator widen the audience", async () => {
    const wide = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      audience: [RESOURCE, emu.projectId],
    });
    expect(await verdictOf(wide.verifyToken(await emu.mintToken({ aud: emu.projectId })))).toBe("accepted");
    expect(await verdictOf(wide.verifyToken(await emu.mintToken({ aud: "https://other.example/mcp" })))).toMatch(
      /audience/,
    );
  });
});
