import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDescopeMcpAuth, DescopeMcpError, UpstreamUnavailableError } from "../src/index.js";

const BASE_URL = "https://mcp.example.com";
const RESOURCE = `${BASE_URL}/mcp`;

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
});
afterAll(() => emu.close());
beforeEach(() => {
  for (const t of ["all", "discovery", "jwks", "outbound", "users"] as const) emu.setFault(t, undefined);
  emu.clearRequests();
});

/** A controllable clock starting at real time. */
function clock() {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (seconds: number) => (offset += seconds * 1000) };
}

const jwksHits = () => emu.requests.filter((r) => r.path === `/${emu.projectId}/.well-known/jwks.json`).length;
const discoveryHits = () => emu.requests.filter((r) => r.path.endsWith("/.well-known/openid-configuration")).length;

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (error) {
    return error instanceof DescopeMcpError ? error.code : `unexpected: ${String(error)}`;
  }
}

describe("JWKS cache", () => {
  it("shares one discovery and one JWKS fetch among 200 concurrent cold requests", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    const token = await emu.mintToken();
    const results = await Promise.all(Array.from({ length: 200 }, () => outcome(auth.verifyToken(token))));
    expect(new Set(results)).toEqual(new Set(["ok"]));
    expect(jwksHits()).toBe(1);
    expect(discoveryHits()).toBe(1);
    expect(auth.stats()).toMatchObject({
      jwksFetches: 1,
      metadataFetches: 1,
      tokenCache: { hits: 0, misses: 200, size: 1 },
    });
  });

  it("refetches at most once per cool-down window for unknown kids, however many arrive", async () => {
    const c = clock();
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      now: c.now,
      jwksCooldownSeconds: 30,
    });
    await auth.verifyToken(await emu.mintToken());
    expect(jwksHits()).toBe(1);
    const unknown = await Promise.all(Array.from({ length: 100 }, () => emu.tokens.unknownKid()));
    // 100 concurrent unknown kids cause exactly one refetch (the cold fetch does not start a window)…
    expect(new Set(await Promise.all(unknown.map((t) => outcome(auth.verifyToken(t)))))).toEqual(
      new Set(["invalid_token"]),
    );
    expect(jwksHits()).toBe(2);
    // …the next ones, inside that refetch's window, none…
    c.advance(29);
    await Promise.all(unknown.map((t) => outcome(auth.verifyToken(t))));
    expect(jwksHits()).toBe(2);
    // …and after the window, one more.
    c.advance(2);
    await Promise.all(unknown.map((t) => outcome(auth.verifyToken(t))));
    expect(jwksHits()).toBe(3);
  });

  it("follows key rotation with one refetch and keeps accepting the old key while it is published", async () => {
    const c = clock();
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, now: c.now, tokenCache: false });
    const oldToken = await emu.mintToken();
    await auth.verifyToken(oldToken);
    await emu.rotateKeys();
    const newToken = await emu.mintToken();
    c.advance(31);
    expect(await outcome(auth.verifyToken(newToken))).toBe("ok");
    expect(await outcome(auth.verifyToken(oldToken))).toBe("ok");
    expect(jwksHits()).toBe(2);
    emu.retireOldKeys();
  });

  it("reloads keys in the background once they are older than jwksMaxAgeSeconds", async () => {
    const c = clock();
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      now: c.now,
      jwksMaxAgeSeconds: 60,
    });
    const token = await emu.mintToken();
    await auth.verifyToken(token);
    c.advance(61);
    // A different token (a repeated one would be a token-cache hit and never look at the keys).
    expect(await outcome(auth.verifyToken(await emu.mintToken({ jti: "another" })))).toBe("ok");
    await new Promise((r) => setTimeout(r, 50));
    expect(jwksHits()).toBe(2);
  });
});

describe("upstream faults", () => {
  it("answers 503 (upstream_unavailable) when the JWKS is down on a cold start, and recovers without restart", async () => {
    const c = clock();
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      now: c.now,
      failureBackoffSeconds: 2,
    });
    const token = await emu.mintToken();
    emu.setFault("jwks", { status: 500 });
    let error: unknown;
    try {
      await auth.verifyToken(token);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect((error as UpstreamUnavailableError).message).toBe("Descope JWKS answered HTTP 500");
    const answer = auth.errorResult(error);
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("5");
    // Inside the back-off window, requests fail fast without calling Descope again.
    const before = jwksHits();
    expect(await outcome(auth.verifyToken(token))).toBe("upstream_unavailable");
    expect(jwksHits()).toBe(before);
    emu.setFault("jwks", undefined);
    c.advance(3);
    expect(await outcome(auth.verifyToken(token))).toBe("ok");
  });

  it.each([
    ["malformed JSON", { body: "{not json" }],
    ["a dropped connection", { destroy: true }],
    ["a 404", { status: 404, body: "{}" }],
  ])("treats %s from the JWKS as unavailable", async (_name, fault) => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    emu.setFault("jwks", fault);
    expect(await outcome(auth.verifyToken(await emu.mintToken()))).toBe("upstream_unavailable");
  });

  it("bounds latency when the JWKS hangs", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, timeouts: { jwks: 200 } });
    emu.setFault("jwks", { delayMs: 5000 });
    const started = Date.now();
    let error: unknown;
    try {
      await auth.verifyToken(await emu.mintToken());
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toBe("Descope JWKS did not answer within 200 ms");
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("keeps accepting valid tokens with cached keys while Descope is down", async () => {
    const c = clock();
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      now: c.now,
      jwksMaxAgeSeconds: 60,
      tokenCache: false,
    });
    const token = await emu.mintToken();
    await auth.verifyToken(token);
    await emu.suspend();
    try {
      c.advance(120);
      expect(await outcome(auth.verifyToken(token))).toBe("ok");
      await new Promise((r) => setTimeout(r, 50));
      expect(await outcome(auth.verifyToken(token))).toBe("ok");
    } finally {
      await emu.resume();
    }
  });

  it("falls back to the well-known JWKS location when discovery is down", async () => {
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    emu.setFault("discovery", { status: 503 });
    expect(await outcome(auth.verifyToken(await emu.mintToken()))).toBe("ok");
    expect(jwksHits()).toBe(1);
  });

  it("uses an explicit jwksURL without discovery", async () => {
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      jwksURL: `${emu.baseURL}/v2/keys/${emu.projectId}`,
    });
    expect(await outcome(auth.verifyToken(await emu.mintToken()))).toBe("ok");
    expect(emu.requests.map((r) => r.path)).toEqual([`/v2/keys/${emu.projectId}`]);
  });
});
