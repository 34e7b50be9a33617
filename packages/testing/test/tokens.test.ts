import { createHmac } from "node:crypto";
import {
  compactVerify,
  createLocalJWKSet,
  createRemoteJWKSet,
  EmbeddedJWK,
  exportSPKI,
  importJWK,
  importSPKI,
  type JWK,
  jwtVerify,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DescopeEmulator, startDescopeEmulator } from "../src/index.js";
import { header, nowSeconds, payload } from "./helpers.js";

let emu: DescopeEmulator;
let jwks: { keys: JWK[] };
let currentKid: string;
let currentKey: CryptoKey;
beforeAll(async () => {
  emu = await startDescopeEmulator();
  jwks = (await (await fetch(emu.jwksURL)).json()) as { keys: JWK[] };
  currentKid = jwks.keys[0]?.kid as string;
  currentKey = (await importJWK(jwks.keys[0] as JWK, "RS256")) as CryptoKey;
});
afterAll(() => emu.close());

const local = () => createLocalJWKSet(jwks);
const verifyWithEmulatorKey = (token: string) => compactVerify(token, currentKey);
const sigOf = (token: string) => token.split(".")[2] as string;

describe("mintToken", () => {
  it("mints the documented defaults, RS256 with the current kid", async () => {
    const token = await emu.mintToken();
    expect(header(token)).toEqual({ alg: "RS256", typ: "JWT", kid: currentKid });
    const claims = payload(token);
    expect(claims).toEqual({
      iss: emu.issuerURL,
      sub: "U2EmulatorUser0001",
      aud: emu.projectId,
      azp: "emulator-client",
      scope: "openid",
      iat: expect.any(Number),
      exp: expect.any(Number),
      email: "ada@example.com",
      roles: [],
      permissions: [],
      tenants: {},
      loginIds: ["ada@example.com"],
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    expect(Math.abs((claims.iat as number) - nowSeconds())).toBeLessThanOrEqual(2);
    const verified = await jwtVerify(token, createRemoteJWKSet(new URL(emu.jwksURL)), {
      issuer: emu.issuerURL,
      audience: emu.projectId,
      algorithms: ["RS256"],
    });
    expect(verified.payload.sub).toBe("U2EmulatorUser0001");
  });

  it("applies overrides, removes claims set to undefined, and honours options", async () => {
    const token = await emu.mintToken(
      { scope: "a b", aud: ["x", "y"], email: undefined, dct: "T1" },
      { expiresInSeconds: -10, kid: "custom-kid", header: { typ: "at+jwt", extra: 1 } },
    );
    expect(header(token)).toEqual({ alg: "RS256", typ: "at+jwt", kid: "custom-kid", extra: 1 });
    const claims = payload(token);
    expect(claims).toMatchObject({ scope: "a b", aud: ["x", "y"], dct: "T1" });
    expect("email" in claims).toBe(false);
    expect((claims.exp as number) - (claims.iat as number)).toBe(-10);
    expect("exp" in payload(await emu.mintToken({}, { noExp: true }))).toBe(false);
  });

  it("uses options.audience as the default aud", async () => {
    const other = await startDescopeEmulator({ audience: ["https://a.example/mcp", "https://b.example/mcp"] });
    try {
      expect(payload(await other.mintToken()).aud).toEqual(["https://a.example/mcp", "https://b.example/mcp"]);
      expect(payload(await other.tokens.valid()).aud).toEqual(["https://a.example/mcp", "https://b.example/mcp"]);
    } finally {
      await other.close();
    }
  });
});

describe("hostile tokens", () => {
  it("valid: verifies with issuer and default audience; overrides apply", async () => {
    const token = await emu.tokens.valid({ scope: "openid notes:write" });
    const { payload: claims } = await jwtVerify(token, local(), { issuer: emu.issuerURL, audience: emu.projectId });
    expect(claims.scope).toBe("openid notes:write");
  });

  it("expired: exp one hour ago, otherwise valid", async () => {
    const token = await emu.tokens.expired();
    const exp = payload(token).exp as number;
    expect(Math.abs(exp - (nowSeconds() - 3600))).toBeLessThanOrEqual(2);
    await expect(jwtVerify(token, local())).rejects.toMatchObject({ code: "ERR_JWT_EXPIRED" });
    await expect(verifyWithEmulatorKey(token)).resolves.toBeDefined();
  });

  it("notYetValid: nbf one hour ahead", async () => {
    const token = await emu.tokens.notYetValid();
    expect(Math.abs((payload(token).nbf as number) - (nowSeconds() + 3600))).toBeLessThanOrEqual(2);
    await expect(jwtVerify(token, local())).rejects.toMatchObject({
      code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      claim: "nbf",
    });
  });

  it("issuedInFuture: iat one hour ahead, exp after it", async () => {
    const claims = payload(await emu.tokens.issuedInFuture());
    expect(Math.abs((claims.iat as number) - (nowSeconds() + 3600))).toBeLessThanOrEqual(2);
    expect(claims.exp as number).toBeGreaterThan(claims.iat as number);
  });

  it("missingExp: no exp claim", async () => {
    const token = await emu.tokens.missingExp();
    expect("exp" in payload(token)).toBe(false);
    await expect(jwtVerify(token, local(), { requiredClaims: ["exp"] })).rejects.toMatchObject({ claim: "exp" });
  });

  it("wrongAudience: aud is neither the project nor the default", async () => {
    const token = await emu.tokens.wrongAudience();
    expect(payload(token).aud).not.toEqual(emu.projectId);
    await expect(jwtVerify(token, local(), { audience: emu.projectId })).rejects.toMatchObject({ claim: "aud" });
  });

  it("wrongIssuer: same host, unrelated path", async () => {
    const iss = payload(await emu.tokens.wrongIssuer()).iss as string;
    expect(new URL(iss).origin).toBe(emu.baseURL);
    expect(iss).not.toContain("/v1/apps/");
    expect(iss).not.toContain(emu.projectId);
  });

  it("otherProject: agentic issuer of another project on the same host, signed by the emulator key", async () => {
    const token = await emu.tokens.otherProject();
    const iss = payload(token).iss as string;
    const match = /^(.+)\/v1\/apps\/agentic\/([^/]+)\/([^/]+)$/.exec(iss);
    expect(match?.[1]).toBe(emu.baseURL);
    expect(match?.[2]).toMatch(/^P[A-Za-z0-9]{27}$/);
    expect(match?.[2]).not.toBe(emu.projectId);
    expect(match?.[3]).toBe(emu.mcpServerId);
    await expect(jwtVerify(token, local())).resolves.toBeDefined();
  });

  it("otherHost: same issuer path on another host", async () => {
    const iss = new URL(payload(await emu.tokens.otherHost()).iss as string);
    expect(iss.origin).toBe("https://api.evil.example");
    expect(iss.pathname).toBe(new URL(emu.issuerURL).pathname);
  });

  it("algNone: alg none, empty signature", async () => {
    const token = await emu.tokens.algNone();
    expect(header(token).alg).toBe("none");
    expect(token.endsWith(".")).toBe(true);
    expect(sigOf(token)).toBe("");
    expect(payload(token).iss).toBe(emu.issuerURL);
  });

  it.each([
    ["hs256WithPublicKey", "HS256", "sha256"],
    ["hs512WithPublicKey", "HS512", "sha512"],
  ] as const)("%s: HMAC over the public key PEM", async (kind, alg, hash) => {
    const token = await emu.tokens[kind]();
    expect(header(token)).toMatchObject({ alg, kid: currentKid });
    const pem = await exportSPKI(currentKey);
    const [h, p] = token.split(".");
    const expected = createHmac(hash, pem).update(`${h}.${p}`).digest("base64url");
    expect(sigOf(token)).toBe(expected);
    await expect(jwtVerify(token, local())).rejects.toBeDefined();
  });

  it("foreignKey: current kid, signature by a key not in the JWKS", async () => {
    const token = await emu.tokens.foreignKey();
    expect(header(token)).toMatchObject({ alg: "RS256", kid: currentKid });
    await expect(jwtVerify(token, local())).rejects.toMatchObject({ code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
  });

  it("unknownKid: kid absent from the JWKS", async () => {
    const token = await emu.tokens.unknownKid();
    const kid = header(token).kid;
    expect(typeof kid).toBe("string");
    expect(jwks.keys.map((k) => k.kid)).not.toContain(kid);
    await expect(jwtVerify(token, local())).rejects.toMatchObject({ code: "ERR_JWKS_NO_MATCHING_KEY" });
  });

  it("missingKid: no kid header, signed by the current key", async () => {
    const token = await emu.tokens.missingKid();
    expect(header(token)).toEqual({ alg: "RS256", typ: "JWT" });
    await expect(verifyWithEmulatorKey(token)).resolves.toBeDefined();
  });

  it("tampered: scope widened after signing", async () => {
    const token = await emu.tokens.tampered({ scope: "openid" });
    expect(payload(token).scope).toBe("openid admin");
    await expect(verifyWithEmulatorKey(token)).rejects.toMatchObject({ code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
  });

  it("strippedSignature: header.payload.", async () => {
    const token = await emu.tokens.strippedSignature();
    expect(token.split(".")).toHaveLength(3);
    expect(sigOf(token)).toBe("");
    expect(header(token).alg).toBe("RS256");
  });

  it("truncatedSignature: a shortened RS256 signature", async () => {
    const token = await emu.tokens.truncatedSignature();
    const full = sigOf(await emu.tokens.valid());
    expect(sigOf(token).length).toBe(full.length - 8);
    await expect(verifyWithEmulatorKey(token)).rejects.toBeDefined();
  });

  it("critHeader: crit names an unknown extension, otherwise validly signed", async () => {
    const token = await emu.tokens.critHeader();
    expect(header(token)).toMatchObject({ crit: ["x-unknown"], "x-unknown": true, kid: currentKid });
    await expect(jwtVerify(token, local())).rejects.toMatchObject({ code: "ERR_JOSE_NOT_SUPPORTED" });
    await expect(compactVerify(token, currentKey, { crit: { "x-unknown": true } })).resolves.toBeDefined();
  });

  it("jkuHeader: jku points to a JWKS with the foreign key that signed it", async () => {
    const token = await emu.tokens.jkuHeader();
    const h = header(token);
    expect(typeof h.jku).toBe("string");
    expect(jwks.keys.map((k) => k.kid)).not.toContain(h.kid);
    await expect(jwtVerify(token, createRemoteJWKSet(new URL(h.jku as string)))).resolves.toBeDefined();
    await expect(jwtVerify(token, local())).rejects.toBeDefined();
  });

  it("x5uHeader: x5u points to the foreign public key", async () => {
    const token = await emu.tokens.x5uHeader();
    const h = header(token);
    const pem = await (await fetch(h.x5u as string)).text();
    await expect(compactVerify(token, await importSPKI(pem, "RS256"))).resolves.toBeDefined();
    await expect(jwtVerify(token, local())).rejects.toBeDefined();
  });

  it("jwkHeader: embeds the foreign key that signed it", async () => {
    const token = await emu.tokens.jwkHeader();
    expect(header(token).jwk).toMatchObject({ kty: "RSA" });
    await expect(jwtVerify(token, EmbeddedJWK)).resolves.toBeDefined();
    await expect(jwtVerify(token, local())).rejects.toBeDefined();
  });

  it("oversized: > 16 KiB, validly signed", async () => {
    const token = await emu.tokens.oversized();
    expect(token.length).toBeGreaterThan(16 * 1024);
    await expect(jwtVerify(token, local(), { issuer: emu.issuerURL, audience: emu.projectId })).resolves.toBeDefined();
  });

  it("nonJsonPayload: signed bytes that are not JSON", async () => {
    const token = await emu.tokens.nonJsonPayload();
    const raw = Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8");
    expect(() => JSON.parse(raw)).toThrow();
    await expect(verifyWithEmulatorKey(token)).resolves.toBeDefined();
    await expect(jwtVerify(token, local())).rejects.toMatchObject({ code: "ERR_JWT_INVALID" });
  });

  it("nonObjectPayload: a signed JSON array", async () => {
    const token = await emu.tokens.nonObjectPayload();
    const raw = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8")) as unknown;
    expect(Array.isArray(raw)).toBe(true);
    await expect(verifyWithEmulatorKey(token)).resolves.toBeDefined();
    await expect(jwtVerify(token, local())).rejects.toMatchObject({ code: "ERR_JWT_INVALID" });
  });

  it("every factory takes claim overrides (where the payload is a JSON object)", async () => {
    const skip = new Set(["nonJsonPayload", "nonObjectPayload"]);
    for (const [name, make] of Object.entries(emu.tokens)) {
      if (skip.has(name)) continue;
      expect(payload(await make({ marker: name })).marker, name).toBe(name);
    }
  });
});
