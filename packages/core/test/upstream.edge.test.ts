// The core's calls to Descope through the runtime's own `fetch`, on Node and inside workerd: no
// fetch option an edge runtime refuses (workerd rejects `redirect: "error"`), redirects judged by
// the core (same origin and GET only, a bounded number of hops), time limits through
// `AbortSignal.timeout`, and the connection and management APIs end to end.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { controlOrigin, type RemoteEmulator, redirectURL, startEmulator } from "../../../test/edge/emulator.js";
import {
  ConnectionNotFoundError,
  createDescopeMcpAuth,
  type DescopeMcpAuthOptions,
  DescopeMcpError,
  UpstreamUnavailableError,
} from "../src/index.js";

const BASE_URL = "https://mcp.example.com";
const RESOURCE = `${BASE_URL}/mcp`;
const CAL = "https://www.googleapis.com/auth/calendar.readonly";

let emu: RemoteEmulator;
beforeAll(async () => {
  emu = await startEmulator({ audience: RESOURCE });
});
afterAll(() => emu?.close());
beforeEach(async () => {
  for (const target of ["all", "discovery", "jwks", "outbound", "users"] as const)
    await emu.setFault(target, undefined);
});

const engine = (extra: Partial<DescopeMcpAuthOptions> = {}) =>
  createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, managementKey: emu.managementKey, ...extra });

async function failure(p: Promise<unknown>): Promise<DescopeMcpError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof DescopeMcpError) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("fetching the JWKS", () => {
  it("verifies a token against keys fetched through the runtime's fetch", async () => {
    const session = await engine().verifyToken(await emu.mintToken({ scope: "openid" }));
    expect(session.userId).toBe("U2EmulatorUser0001");
  });

  it("follows a same-origin redirect (relative or absolute), at most 3 hops", async () => {
    const jwks = new URL(emu.controlJwksURL).pathname;
    const token = await emu.mintToken();
    expect((await engine({ jwksURL: redirectURL(jwks) }).verifyToken(token)).userId).toBe("U2EmulatorUser0001");
    const twice = redirectURL(redirectURL(`${controlOrigin()}${jwks}`, 307));
    expect((await engine({ jwksURL: twice }).verifyToken(token)).userId).toBe("U2EmulatorUser0001");
    let fourHops = emu.controlJwksURL;
    for (let i = 0; i < 4; i++) fourHops = redirectURL(fourHops);
    const e = await failure(engine({ jwksURL: fourHops }).verifyToken(token));
    expect(e).toBeInstanceOf(UpstreamUnavailableError);
    expect(e.message).toBe("Descope JWKS answered a redirect (HTTP 302) that is not followed");
  });

  it("never follows a redirect to another origin", async () => {
    const e = await failure(engine({ jwksURL: redirectURL(emu.jwksURL) }).verifyToken(await emu.mintToken()));
    expect(e).toBeInstanceOf(UpstreamUnavailableError);
    expect(e.message).toBe("Descope JWKS answered a redirect (HTTP 302) that is not followed");
    expect(e.status).toBe(503);
  });

  it("gives up after the JWKS time limit (AbortSignal.timeout) with a 503", async () => {
    await emu.setFault("jwks", { delayMs: 10_000 });
    const started = Date.now();
    const e = await failure(
      engine({ jwksURL: emu.jwksURL, timeouts: { jwks: 300 } }).verifyToken(await emu.mintToken()),
    );
    expect(e).toBeInstanceOf(UpstreamUnavailableError);
    expect(e.message).toBe("Descope JWKS did not answer within 300 ms");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("answers a 5xx with a 503", async () => {
    await emu.setFault("jwks", { status: 500 });
    const e = await failure(engine({ jwksURL: emu.jwksURL }).verifyToken(await emu.mintToken()));
    expect(e.message).toBe("Descope JWKS answered HTTP 500");
  });
});

describe("discovery", () => {
  it("forwards Descope's metadata, and refuses a cross-origin redirect", async () => {
    expect((await engine().authorizationServerMetadata()).issuer).toBe(emu.issuerURL);
    await emu.setFault("discovery", { status: 302, headers: { location: "https://evil.example/metadata" } });
    const e = await failure(engine().authorizationServerMetadata());
    expect(e).toBeInstanceOf(UpstreamUnavailableError);
    expect(e.message).toBe("Descope discovery document answered a redirect (HTTP 302) that is not followed");
  });
});

describe("connections and management (POST to Descope)", () => {
  it("fetches a connection token with the caller's token, and reports a missing connection", async () => {
    const auth = engine();
    const session = await auth.verifyToken(await emu.mintToken({ scope: "openid outbound.token.fetch" }));
    await emu.setConnection("google-calendar", { status: "connected", accessToken: "ya29.edge", scopes: [CAL] });
    const token = await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], session, cache: false });
    expect(token.accessToken).toBe("ya29.edge");
    const sent = (await emu.requests()).filter((r) => r.path === "/v1/mgmt/outbound/app/user/token").at(-1);
    expect(sent?.headers.authorization).toBe(`Bearer ${emu.projectId}:${session.token}`);
    await emu.setConnection("google-calendar", { status: "not_connected" });
    const e = await failure(auth.connections.getToken({ appId: "google-calendar", session, cache: false }));
    expect(e).toBeInstanceOf(ConnectionNotFoundError);
  });

  it("never re-sends a POST on a redirect (the credentials stay where they were sent)", async () => {
    const auth = engine();
    const session = await auth.verifyToken(await emu.mintToken({ scope: "openid outbound.token.fetch" }));
    await emu.setFault("outbound", { status: 307, headers: { location: "/v1/mgmt/outbound/app/user/token?again=1" } });
    await emu.clearRequests();
    const e = await failure(auth.connections.getToken({ appId: "google-calendar", session, cache: false }));
    expect(e).toBeInstanceOf(UpstreamUnavailableError);
    expect(e.message).toMatch(/answered a redirect \(HTTP 307\) that is not followed/);
    const sent = (await emu.requests()).map((r) => `${r.method} ${r.path}`);
    expect(sent).toEqual(["POST /v1/mgmt/outbound/app/user/token/latest"]); // once, never to the Location
  });

  it("loads a user with the management key", async () => {
    const user = await engine().management.getUser("U2EmulatorUser0001");
    expect(user).toMatchObject({ userId: "U2EmulatorUser0001", email: "ada@example.com", name: "Ada Lovelace" });
  });
});
