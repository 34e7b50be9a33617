import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ConfigurationError,
  ConnectionDeniedError,
  ConnectionNotFoundError,
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  InvalidRequestError,
  UpstreamUnavailableError,
  UserNotFoundError,
} from "../src/index.js";

const BASE_URL = "https://mcp.example.com";
const RESOURCE = `${BASE_URL}/mcp`;
const CAL = "https://www.googleapis.com/auth/calendar.readonly";

let emu: DescopeEmulator;
let auth: DescopeMcpAuth;
let keyless: DescopeMcpAuth;

beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
  auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, managementKey: emu.managementKey });
  keyless = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.clearRequests();
  for (const t of ["all", "discovery", "jwks", "outbound", "users"] as const) emu.setFault(t, undefined);
  emu.setConnection("google-calendar", {
    status: "connected",
    accessToken: "ya29.secret-google-token",
    scopes: [CAL],
    expiresInSeconds: 3600,
  });
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a failure");
}

describe("connections.getToken", () => {
  it("uses the caller's token by default and sends exactly what Descope expects", async () => {
    const token = await emu.mintToken({ scope: "openid outbound.token.fetch" });
    const session = await auth.verifyToken(token);
    emu.clearRequests();
    const before = Math.floor(Date.now() / 1000);
    const result = await auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], session });
    expect(result.accessToken).toBe("ya29.secret-google-token");
    expect(result.scopes).toEqual([CAL]);
    expect((result.expiresAt as Date).getTime() / 1000).toBeGreaterThanOrEqual(before + 3599);
    const [sent] = emu.requests;
    expect(emu.requests).toHaveLength(1);
    expect(sent).toMatchObject({ method: "POST", path: "/v1/mgmt/outbound/app/user/token" });
    expect(sent?.headers.authorization).toBe(`Bearer ${emu.projectId}:${token}`);
    expect(sent?.headers["content-type"]).toBe("application/json");
    expect(sent?.body).toEqual({
      appId: "google-calendar",
      userId: "U2EmulatorUser0001",
      scopes: [CAL],
      options: { withRefreshToken: false, forceRefresh: false },
    });
  });

  it("asks for the latest token without scopes, with a tenant, and forceRefresh", async () => {
    const token = await emu.mintToken({ scope: "outbound.token.fetch" });
    await auth.connections.getToken({
      appId: "google-calendar",
      accessToken: token,
      tenantId: "T1",
      forceRefresh: true,
    });
    expect(emu.requests[0]?.path).toBe("/v1/mgmt/outbound/app/user/token/latest");
    expect(emu.requests[0]?.body).toEqual({
      appId: "google-calendar",
      userId: "U2EmulatorUser0001",
      tenantId: "T1",
      options: { withRefreshToken: false, forceRefresh: true },
    });
  });

  it("uses the management key only when asked", async () => {
    await auth.connections.getToken({ appId: "google-calendar", userId: "U2EmulatorUser0001", useManagementKey: true });
    expect(emu.requests[0]?.headers.authorization).toBe(`Bearer ${emu.projectId}:${emu.managementKey}`);
    const e = await failure(
      keyless.connections.getToken({ appId: "google-calendar", userId: "u", useManagementKey: true }),
    );
    expect(e).toBeInstanceOf(ConfigurationError);
    expect(e.message).toBe(
      "connections.getToken with useManagementKey needs the managementKey option (DESCOPE_MANAGEMENT_KEY)",
    );
  });

  it("needs credentials and an appId", async () => {
    expect(await failure(auth.connections.getToken({ appId: "google-calendar" }))).toBeInstanceOf(InvalidRequestError);
    expect(await failure(auth.connections.getToken({ appId: "", accessToken: "x" }))).toBeInstanceOf(
      InvalidRequestError,
    );
    expect(emu.requests).toHaveLength(0);
  });

  it("tells 'not connected' and 'denied' apart, never echoing the token", async () => {
    const token = await emu.mintToken({ scope: "outbound.token.fetch" });
    emu.setConnection("google-calendar", { status: "not_connected" });
    const notConnected = await failure(auth.connections.getToken({ appId: "google-calendar", accessToken: token }));
    expect(notConnected).toBeInstanceOf(ConnectionNotFoundError);
    expect(notConnected).toMatchObject({ code: "connection_not_found", status: 404, appId: "google-calendar" });
    emu.setConnection("google-calendar", { status: "denied" });
    const denied = await failure(auth.connections.getToken({ appId: "google-calendar", accessToken: token }));
    expect(denied).toBeInstanceOf(ConnectionDeniedError);
    expect(denied).toMatchObject({ code: "connection_denied", status: 403 });
    for (const e of [notConnected, denied]) {
      expect(e.message).not.toContain(token);
      expect(JSON.stringify(e)).not.toContain(token);
    }
  });

  it("is denied when the caller's token lacks outbound.token.fetch", async () => {
    const token = await emu.mintToken({ scope: "openid" });
    expect(await failure(auth.connections.getToken({ appId: "google-calendar", accessToken: token }))).toBeInstanceOf(
      ConnectionDeniedError,
    );
  });

  it("reports Descope being down as upstream_unavailable", async () => {
    emu.setFault("outbound", { status: 502 });
    const e = await failure(
      auth.connections.getToken({ appId: "google-calendar", accessToken: await emu.mintToken() }),
    );
    expect(e).toBeInstanceOf(UpstreamUnavailableError);
    expect(e.message).toBe("Descope connection-token API answered HTTP 502");
  });
});

describe("connections.getTenantToken", () => {
  it("calls the tenant endpoints", async () => {
    await auth.connections.getTenantToken({
      appId: "google-calendar",
      tenantId: "T1",
      scopes: [CAL],
      useManagementKey: true,
    });
    await auth.connections.getTenantToken({ appId: "google-calendar", tenantId: "T1", useManagementKey: true });
    expect(emu.requests.map((r) => [r.path, r.body])).toEqual([
      [
        "/v1/mgmt/outbound/app/tenant/token",
        {
          appId: "google-calendar",
          tenantId: "T1",
          scopes: [CAL],
          options: { withRefreshToken: false, forceRefresh: false },
        },
      ],
      [
        "/v1/mgmt/outbound/app/tenant/token/latest",
        { appId: "google-calendar", tenantId: "T1", options: { withRefreshToken: false, forceRefresh: false } },
      ],
    ]);
    expect(
      await failure(auth.connections.getTenantToken({ appId: "x", tenantId: "", useManagementKey: true })),
    ).toBeInstanceOf(InvalidRequestError);
  });
});

describe("management.getUser", () => {
  it("loads a user with the management key", async () => {
    const user = await auth.management.getUser("U2EmulatorUser0001");
    expect(user).toMatchObject({
      userId: "U2EmulatorUser0001",
      email: "ada@example.com",
      name: "Ada Lovelace",
      loginIds: ["ada@example.com"],
    });
    expect(emu.requests[0]).toMatchObject({
      method: "GET",
      path: "/v1/mgmt/user",
      query: { userId: "U2EmulatorUser0001" },
    });
    expect(emu.requests[0]?.headers.authorization).toBe(`Bearer ${emu.projectId}:${emu.managementKey}`);
    const byLogin = await auth.management.getUserByLoginId("ada@example.com");
    expect(byLogin.userId).toBe("U2EmulatorUser0001");
  });

  it("fails clearly without a key and for unknown users", async () => {
    const e = await failure(keyless.management.getUser("U1"));
    expect(e).toBeInstanceOf(ConfigurationError);
    expect(e.message).toBe(
      "management.getUser needs the managementKey option (DESCOPE_MANAGEMENT_KEY); none is configured",
    );
    expect(await failure(auth.management.getUser("nobody"))).toBeInstanceOf(UserNotFoundError);
  });
});

/** The first piece of `secret` of `size` or more characters that `text` contains, if any. */
function leakedFragment(text: string, secret: string, size = 8): string | undefined {
  for (let i = 0; i + size <= secret.length; i++) {
    const piece = secret.slice(i, i + size);
    if (text.includes(piece)) return piece;
  }
  return undefined;
}

describe("Descope's free text never reaches a message", () => {
  /** Fragments of a secret an upstream error might quote. */
  const fragmentsOf = (secret: string) => {
    const signature = secret.split(".")[2] ?? secret;
    return [
      secret,
      secret.slice(0, 12),
      secret.slice(0, Math.floor(secret.length / 2)),
      secret.slice(-12),
      secret.slice(1),
      signature.slice(0, -1),
      signature.slice(1, -1),
      `${secret.slice(0, 10)}…${secret.slice(-10)}`,
      encodeURIComponent(secret),
    ];
  };
  const bodies = (quote: string) => [
    { errorCode: "E062108", errorDescription: `Bad credential ${quote}`, errorMessage: `Bad credential ${quote}` },
    { errorCode: "E062108", message: quote },
    { errorCode: quote.slice(0, 11), errorDescription: "x" },
    { errorCode: `E${quote}`, errorDescription: quote },
    { error_description: quote },
  ];

  it("keeps only Descope's errorCode in connection-token errors, however the caller's token is quoted", async () => {
    const token = await emu.mintToken({ scope: "openid outbound.token.fetch" });
    const session = await auth.verifyToken(token);
    for (const status of [400, 403, 404, 429]) {
      for (const quote of fragmentsOf(token)) {
        for (const body of bodies(quote)) {
          emu.setFault("outbound", { status, body: JSON.stringify(body) });
          const error = await failure(
            auth.connections.getToken({ appId: "google-calendar", scopes: [CAL], session, cache: false }),
          );
          const text = `${error.message} ${JSON.stringify(error)} ${String(error)}`;
          expect(leakedFragment(text, token), `${status} ${JSON.stringify(body).slice(0, 60)}`).toBeUndefined();
        }
      }
    }
    emu.setFault("outbound", {
      status: 403,
      body: JSON.stringify({ errorCode: "E062108", errorDescription: "denied" }),
    });
    const denied = await failure(auth.connections.getToken({ appId: "google-calendar", session, cache: false }));
    expect(denied.message).toBe(
      "Descope denied access to the 'google-calendar' connection token (Descope error E062108)",
    );
  });

  it("keeps only Descope's errorCode in management errors, however the management key is quoted", async () => {
    // A key shaped like Descope's (random base64url), so no fragment of it is an English word of ours.
    const key = `K2${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
    const keyed = await startDescopeEmulator({ audience: RESOURCE, managementKey: key });
    try {
      const engine = createDescopeMcpAuth({ issuerURL: keyed.issuerURL, baseURL: BASE_URL, managementKey: key });
      for (const status of [400, 401, 404, 500]) {
        for (const quote of fragmentsOf(key)) {
          for (const body of bodies(quote)) {
            keyed.setFault("users", { status, body: JSON.stringify(body) });
            const error = await failure(engine.management.getUser("U2EmulatorUser0001"));
            const text = `${error.message} ${JSON.stringify(error)} ${String(error)}`;
            expect(leakedFragment(text, key), `${status} ${JSON.stringify(body)}`).toBeUndefined();
          }
        }
      }
    } finally {
      await keyed.close();
    }
  });

  it("never quotes a connection token an error body carries", async () => {
    const token = await emu.mintToken({ scope: "openid outbound.token.fetch" });
    const leaked = `ya29.${Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url")}`;
    emu.setFault("outbound", {
      status: 400,
      body: JSON.stringify({
        errorCode: "E062108",
        errorDescription: `refresh failed for ${leaked}`,
        token: { accessToken: leaked },
      }),
    });
    const error = await failure(
      auth.connections.getToken({ appId: "google-calendar", accessToken: token, cache: false }),
    );
    expect(leakedFragment(error.message, leaked)).toBeUndefined();
  });
});
