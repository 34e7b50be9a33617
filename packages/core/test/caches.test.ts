import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDescopeMcpAuth, DescopeMcpError } from "../src/index.js";

const BASE_URL = "https://mcp.example.com";
const RESOURCE = `${BASE_URL}/mcp`;
const CAL = "https://www.googleapis.com/auth/calendar.readonly";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
});
afterAll(() => emu.close());
beforeEach(() => emu.clearRequests());

/** A test clock: real time plus an offset, or (given a start) a fixed time that only `advance` moves. */
function clock(start?: number) {
  let offset = 0;
  return {
    now: () => (start ?? Date.now()) + offset,
    advance: (seconds: number) => (offset += seconds * 1000),
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (error) {
    return error instanceof DescopeMcpError ? error.code : `unexpected ${String(error)}`;
  }
}

describe("verified-token cache", () => {
  it("serves a repeated token from the cache: one verification, the same frozen session", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    const token = await emu.mintToken({ scope: "a b" });
    const first = await auth.verifyToken(token);
    const second = await auth.verifyToken(token);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.scopes)).toBe(true);
    expect(() => (first.scopes as string[]).push("admin")).toThrow(TypeError);
    expect(auth.stats().tokenCache).toEqual({ hits: 1, misses: 1, evictions: 0, size: 1 });
  });

  it("re-checks expiry on every hit and drops the entry once the token expires", async () => {
    // `exp` is in whole seconds: the clock starts on a whole second and the token's times are set
    // from it, so the test means the same whenever in the second it runs.
    const c = clock(Math.floor(Date.now() / 1000) * 1000);
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      now: c.now,
      clockToleranceSeconds: 5,
    });
    const t0 = c.now() / 1000;
    const token = await emu.mintToken({ iat: t0, exp: t0 + 60 });
    expect(await codeOf(auth.verifyToken(token))).toBe("ok");
    c.advance(64); // exp + 4 s: still inside the 5 s tolerance
    expect(await codeOf(auth.verifyToken(token))).toBe("ok");
    c.advance(2); // exp + 6 s
    expect(await codeOf(auth.verifyToken(token))).toBe("token_expired");
    expect(auth.stats().tokenCache.size).toBe(0);
    // and a fresh verification agrees
    expect(await codeOf(auth.verifyToken(token))).toBe("token_expired");
  });

  it("re-verifies an entry older than maxAgeSeconds, even if the token is still valid", async () => {
    const c = clock();
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      now: c.now,
      tokenCache: { maxAgeSeconds: 30 },
    });
    const token = await emu.mintToken();
    await auth.verifyToken(token);
    c.advance(31);
    await auth.verifyToken(token);
    expect(auth.stats().tokenCache).toMatchObject({ hits: 0, misses: 2, size: 1 });
  });

  it("never lets one token hit another's entry, even sharing a prefix or differing in one character", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    const alice = await emu.mintToken({ sub: "alice" });
    const bob = await emu.mintToken({ sub: "bob" });
    expect((await auth.verifyToken(alice)).userId).toBe("alice");
    expect((await auth.verifyToken(bob)).userId).toBe("bob");
    expect((await auth.verifyToken(alice)).userId).toBe("alice");
    // A cached token with one signature character changed is a different, invalid token. (Not the
    // last character: its low bits are padding in base64url, so some changes there decode identically.)
    const at = alice.length - 10;
    const swapped = alice[at] === "A" ? "B" : "A";
    expect(await codeOf(auth.verifyToken(`${alice.slice(0, at)}${swapped}${alice.slice(at + 1)}`))).toBe(
      "invalid_token",
    );
    expect(await codeOf(auth.verifyToken(`${alice}x`))).toBe("invalid_token");
    expect(await codeOf(auth.verifyToken(alice.slice(0, -1)))).toBe("invalid_token");
    expect(auth.stats().tokenCache.size).toBe(2);
  });

  it("never serves a cached token's entry to a token that only shares its signature (the cache's key)", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    const alice = await emu.mintToken({ sub: "alice", scope: "openid" });
    const bob = await emu.mintToken({ sub: "bob", scope: "openid admin:*" });
    expect((await auth.verifyToken(alice)).userId).toBe("alice");
    // Bob's header and claims under Alice's signature: the same last characters as Alice's cached
    // token (what the cache hashes), but not her token. Verified in full, and refused.
    const [, , signature] = alice.split(".");
    const [header, payload] = bob.split(".");
    const forged = `${header}.${payload}.${signature}`;
    expect(forged.slice(-48)).toBe(alice.slice(-48));
    expect(await codeOf(auth.verifyToken(forged))).toBe("invalid_token");
    expect(auth.stats().tokenCache).toMatchObject({ hits: 0, size: 1 });
    // Alice's entry is still hers, and still a hit.
    expect((await auth.verifyToken(alice)).userId).toBe("alice");
    expect(auth.stats().tokenCache).toMatchObject({ hits: 1, size: 1 });
  });

  it("holds its bound, evicting the oldest entries", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, tokenCache: { maxEntries: 5 } });
    const tokens = await Promise.all(Array.from({ length: 12 }, (_, i) => emu.mintToken({ jti: `t${i}` })));
    for (const t of tokens) await auth.verifyToken(t);
    expect(auth.stats().tokenCache).toEqual({ hits: 0, misses: 12, evictions: 7, size: 5 });
    await auth.verifyToken(tokens[11] as string); // newest: a hit
    await auth.verifyToken(tokens[0] as string); // oldest: evicted, verified again
    expect(auth.stats().tokenCache).toMatchObject({ hits: 1, misses: 13, size: 5 });
  });

  it("does not cache refused tokens and shares one verification among concurrent first uses", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    const bad = await emu.tokens.wrongAudience();
    expect(await codeOf(auth.verifyToken(bad))).toBe("invalid_token");
    expect(await codeOf(auth.verifyToken(bad))).toBe("invalid_token");
    expect(auth.stats().tokenCache.size).toBe(0);
    const token = await emu.mintToken({ jti: "concurrent" });
    const sessions = await Promise.all(Array.from({ length: 50 }, () => auth.verifyToken(token)));
    expect(new Set(sessions).size).toBe(1);
  });

  it("can be disabled", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, tokenCache: false });
    const token = await emu.mintToken();
    const a = await auth.verifyToken(token);
    const b = await auth.verifyToken(token);
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
    expect(auth.stats().tokenCache).toEqual({ hits: 0, misses: 0, evictions: 0, size: 0 });
  });
});

describe("connection-token cache", () => {
  const outboundCalls = () => emu.requests.filter((r) => r.path.startsWith("/v1/mgmt/outbound/")).length;

  it("reuses a token per (caller, user, app, scopes) until shortly before it expires", async () => {
    // The emulator states expiry in whole seconds from its own clock: this clock starts on a whole
    // second before it, so the steps below fall on the same side of the refresh point every run.
    const c = clock(Math.floor(Date.now() / 1000) * 1000);
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, now: c.now });
    emu.setConnection("google-calendar", {
      status: "connected",
      accessToken: "g-1",
      scopes: [CAL],
      expiresInSeconds: 600,
    });
    const token = await emu.mintToken({ scope: "outbound.token.fetch" });
    const a = await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], accessToken: token });
    const b = await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], accessToken: token });
    expect(b).toBe(a);
    expect(outboundCalls()).toBe(1);
    c.advance(600 - 61); // still more than 60 s before expiry
    await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], accessToken: token });
    expect(outboundCalls()).toBe(1);
    c.advance(3); // within the refresh skew (even if the emulator's clock was a second ahead): fetched again
    await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], accessToken: token });
    expect(outboundCalls()).toBe(2);
    // The emulator's new token expires 600 s from its real time, which this test clock has already
    // passed the refresh point of, so it is (correctly) not kept.
    expect(auth.stats().connectionCache).toEqual({ hits: 2, misses: 2, size: 0 });
  });

  it("keys by caller credential, scopes and tenant; forceRefresh bypasses", async () => {
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      managementKey: emu.managementKey,
    });
    emu.setConnection("google-calendar", {
      status: "connected",
      accessToken: "g-2",
      scopes: [CAL, "x"],
      expiresInSeconds: 600,
    });
    const t1 = await emu.mintToken({ scope: "outbound.token.fetch", jti: "one" });
    const t2 = await emu.mintToken({ scope: "outbound.token.fetch", jti: "two" });
    await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], accessToken: t1 });
    await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], accessToken: t2 });
    await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL, "x"], accessToken: t1 });
    await auth.connections.getToken({ appId: "google-calendar", scopes: ["x", CAL], accessToken: t1 }); // same set: hit
    await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], accessToken: t1, tenantId: "T1" });
    await auth.connections.getToken({
      appId: "google-calendar",
      scopes: [CAL],
      userId: "U2EmulatorUser0001",
      useManagementKey: true,
    });
    expect(outboundCalls()).toBe(5);
    await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], accessToken: t1, forceRefresh: true });
    expect(outboundCalls()).toBe(6);
    expect(emu.requests.at(-1)?.body).toMatchObject({ options: { forceRefresh: true } });
  });

  it("shares one upstream call among concurrent identical requests and caches no failures", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    emu.setConnection("google-calendar", {
      status: "connected",
      accessToken: "g-3",
      scopes: [CAL],
      expiresInSeconds: 600,
    });
    const token = await emu.mintToken({ scope: "outbound.token.fetch", jti: "shared" });
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], accessToken: token }),
      ),
    );
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(["g-3"]));
    expect(outboundCalls()).toBe(1);
    emu.setConnection("slack", { status: "not_connected" });
    expect(await codeOf(auth.connections.getToken({ appId: "slack", accessToken: token }))).toBe(
      "connection_not_found",
    );
    expect(await codeOf(auth.connections.getToken({ appId: "slack", accessToken: token }))).toBe(
      "connection_not_found",
    );
    expect(outboundCalls()).toBe(3);
  });

  it("can be disabled", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, connectionCache: false });
    emu.setConnection("google-calendar", {
      status: "connected",
      accessToken: "g-4",
      scopes: [CAL],
      expiresInSeconds: 600,
    });
    const token = await emu.mintToken({ scope: "outbound.token.fetch", jti: "nocache" });
    await auth.connections.getToken({ appId: "google-calendar", accessToken: token });
    await auth.connections.getToken({ appId: "google-calendar", accessToken: token });
    expect(outboundCalls()).toBe(2);
  });

  it("is skipped per call with cache: false (a live status check)", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    emu.setConnection("google-calendar", {
      status: "connected",
      accessToken: "g-5",
      scopes: [CAL],
      expiresInSeconds: 600,
    });
    const token = await emu.mintToken({ scope: "outbound.token.fetch", jti: "live" });
    await auth.connections.getToken({ appId: "google-calendar", accessToken: token });
    emu.setConnection("google-calendar", { status: "not_connected" });
    expect((await auth.connections.getToken({ appId: "google-calendar", accessToken: token })).accessToken).toBe("g-5");
    expect(
      await codeOf(auth.connections.getToken({ appId: "google-calendar", accessToken: token, cache: false })),
    ).toBe("connection_not_found");
  });
});
