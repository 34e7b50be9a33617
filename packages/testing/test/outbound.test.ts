import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DescopeEmulator, startDescopeEmulator } from "../src/index.js";
import { endpoints, nowSeconds, postJson } from "./helpers.js";

const USER = "U2EmulatorUser0001";
const CAL = "google-calendar";
const CAL_SCOPE = "https://www.googleapis.com/auth/calendar.readonly";

let emu: DescopeEmulator;
let mgmt: string;
beforeAll(async () => {
  emu = await startDescopeEmulator({
    user: { tenants: { T1: { roles: ["member"] } } },
    connections: {
      [CAL]: { status: "connected", accessToken: "ya29.calendar", scopes: [CAL_SCOPE], expiresInSeconds: 600 },
      github: { status: "connected" },
      slack: { status: "denied" },
    },
    users: [
      {
        userId: "U2Grace",
        email: "grace@example.com",
        name: "Grace Hopper",
        loginIds: ["grace", "grace@example.com"],
        roles: ["admin"],
        permissions: ["p1"],
        tenants: { T1: { roles: ["owner"] }, T2: {} },
      },
    ],
  });
  mgmt = `Bearer ${emu.projectId}:${emu.managementKey}`;
});
afterAll(() => emu.close());
beforeEach(() => emu.clearRequests());

const userBody = {
  appId: CAL,
  userId: USER,
  scopes: [CAL_SCOPE],
  options: { withRefreshToken: false, forceRefresh: false },
};
const errorBody = (errorDescription: string) => ({
  errorCode: expect.stringMatching(/^E\d{6}$/),
  errorDescription,
  errorMessage: expect.any(String),
});

describe("outbound app tokens", () => {
  it("answers the user token with the management key", async () => {
    const res = await postJson(endpoints(emu).userToken, userBody, mgmt);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: Record<string, unknown> };
    expect(body).toEqual({
      token: {
        id: expect.any(String),
        appId: CAL,
        userId: USER,
        accessToken: "ya29.calendar",
        accessTokenExpiry: expect.any(Number),
        hasRefreshToken: true,
        scopes: [CAL_SCOPE],
        grantedBy: "user",
      },
    });
    expect(Math.abs((body.token.accessTokenExpiry as number) - (nowSeconds() + 600))).toBeLessThanOrEqual(2);
  });

  it("records the exact request", async () => {
    await postJson(endpoints(emu).userToken, userBody, mgmt);
    expect(emu.requests).toEqual([
      {
        method: "POST",
        path: "/v1/mgmt/outbound/app/user/token",
        query: {},
        headers: expect.objectContaining({ authorization: mgmt, "content-type": "application/json" }),
        body: userBody,
        at: expect.any(Number),
      },
    ]);
    expect(Math.abs((emu.requests[0]?.at ?? 0) - Date.now())).toBeLessThan(5000);
  });

  it("serves the latest user token and tenant tokens", async () => {
    const latest = await postJson(
      endpoints(emu).userTokenLatest,
      { appId: "github", userId: USER, options: {}, tenantId: "T1" },
      mgmt,
    );
    expect(latest.status).toBe(200);
    expect(await latest.json()).toEqual({
      token: {
        id: expect.any(String),
        appId: "github",
        userId: USER,
        tenantId: "T1",
        accessToken: "emu-github-access-token",
        accessTokenExpiry: expect.any(Number),
        hasRefreshToken: true,
        scopes: [],
        grantedBy: "user",
      },
    });
    const tenant = await postJson(
      endpoints(emu).tenantToken,
      { appId: "github", tenantId: "T1", scopes: ["repo"], options: { withRefreshToken: true } },
      mgmt,
    );
    expect(tenant.status).toBe(200);
    expect(((await tenant.json()) as { token: unknown }).token).toEqual({
      id: expect.any(String),
      appId: "github",
      tenantId: "T1",
      accessToken: "emu-github-access-token",
      accessTokenExpiry: expect.any(Number),
      refreshToken: "emu-github-refresh-token",
      hasRefreshToken: true,
      scopes: ["repo"],
      grantedBy: "user",
    });
    const tenantLatest = await postJson(
      endpoints(emu).tenantTokenLatest,
      { appId: CAL, tenantId: "T1", options: {} },
      mgmt,
    );
    expect(tenantLatest.status).toBe(200);
  });

  it("accepts the user's own access token when it carries outbound.token.fetch", async () => {
    const token = await emu.mintToken({ scope: "openid outbound.token.fetch", aud: "https://mcp.example.com/mcp" });
    const res = await postJson(endpoints(emu).userToken, userBody, `Bearer ${emu.projectId}:${token}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { token: { accessToken: string } }).token.accessToken).toBe("ya29.calendar");
  });

  it("answers 403 for a user token without outbound.token.fetch", async () => {
    const token = await emu.mintToken({ scope: "openid notes:read" });
    const res = await postJson(endpoints(emu).userToken, userBody, `Bearer ${emu.projectId}:${token}`);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual(errorBody("Forbidden"));
  });

  it("answers 403 when a user token asks for someone else's connection or tenant", async () => {
    const token = await emu.mintToken({ scope: "outbound.token.fetch" });
    const auth = `Bearer ${emu.projectId}:${token}`;
    const other = await postJson(endpoints(emu).userToken, { ...userBody, userId: "U2Grace" }, auth);
    expect(other.status).toBe(403);
    const foreignTenant = await postJson(
      endpoints(emu).tenantToken,
      { appId: CAL, tenantId: "T9", scopes: [], options: {} },
      auth,
    );
    expect(foreignTenant.status).toBe(403);
    const ownTenant = await postJson(
      endpoints(emu).tenantToken,
      { appId: CAL, tenantId: "T1", scopes: [], options: {} },
      auth,
    );
    expect(ownTenant.status).toBe(200);
  });

  it.each([
    ["no Authorization header", undefined],
    ["another project's prefix", "Bearer P2OtherPr0ject00000000000009:emulator-management-key"],
    ["no project prefix", "Bearer emulator-management-key"],
    ["a Basic scheme", "Basic cHJvamVjdDprZXk="],
    ["a wrong secret", "Bearer PROJECT:not-a-key"],
    ["lower-case bearer", "bearer PROJECT:emulator-management-key"],
  ])("answers 401 for %s", async (_name, authorization) => {
    const res = await postJson(endpoints(emu).userToken, userBody, authorization?.replace("PROJECT", emu.projectId));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(errorBody("Unauthorized"));
  });

  it.each([
    "expired",
    "foreignKey",
    "otherProject",
    "otherHost",
    "algNone",
    "hs256WithPublicKey",
    "tampered",
    "critHeader",
    "jwkHeader",
    "missingExp",
  ] as const)("answers 401 for a %s token", async (kind) => {
    const token = await emu.tokens[kind]({ scope: "outbound.token.fetch" });
    const res = await postJson(endpoints(emu).userToken, userBody, `Bearer ${emu.projectId}:${token}`);
    expect(res.status).toBe(401);
  });

  it("answers 404 'Outbound app token not found' when the app is not connected", async () => {
    const res = await postJson(endpoints(emu).userToken, { ...userBody, appId: "never-configured" }, mgmt);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(errorBody("Outbound app token not found"));

    emu.setConnection("github", { status: "not_connected" });
    const disconnected = await postJson(
      endpoints(emu).userTokenLatest,
      { appId: "github", userId: USER, options: {} },
      mgmt,
    );
    expect(disconnected.status).toBe(404);
    expect(await disconnected.json()).toEqual(errorBody("Outbound app token not found"));
    emu.setConnection("github", { status: "connected" });
  });

  it("answers 404 when the connection lacks a requested scope", async () => {
    const res = await postJson(
      endpoints(emu).userToken,
      { ...userBody, scopes: ["https://www.googleapis.com/auth/calendar"] },
      mgmt,
    );
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(errorBody("Outbound app token not found"));
  });

  it("answers 403 'Access denied by policy' when denied, and follows setConnection", async () => {
    const res = await postJson(endpoints(emu).userToken, { ...userBody, appId: "slack" }, mgmt);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual(errorBody("Access denied by policy"));
    emu.setConnection("slack", { status: "connected", accessToken: "xoxb" });
    const now = await postJson(endpoints(emu).userTokenLatest, { appId: "slack", userId: USER, options: {} }, mgmt);
    expect(now.status).toBe(200);
    expect(((await now.json()) as { token: { accessToken: string } }).token.accessToken).toBe("xoxb");
    emu.setConnection("slack", { status: "denied" });
  });

  it.each([
    ["no appId", endpoints, "userToken", { userId: USER, scopes: [], options: {} }],
    ["no userId", endpoints, "userToken", { appId: CAL, scopes: [], options: {} }],
    ["no userId (latest)", endpoints, "userTokenLatest", { appId: CAL, options: {} }],
    ["no tenantId", endpoints, "tenantToken", { appId: CAL, scopes: [], options: {} }],
    ["scopes not an array", endpoints, "userToken", { appId: CAL, userId: USER, scopes: "x", options: {} }],
  ] as const)("answers 400 for %s", async (_name, eps, key, body) => {
    const res = await postJson(eps(emu)[key], body, mgmt);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(errorBody("Bad request"));
  });
});

describe("users", () => {
  const load = (query: string, authorization: string | null = mgmt) =>
    fetch(`${endpoints(emu).users}?${query}`, { headers: authorization !== null ? { authorization } : {} });

  it("loads the login user by userId and by loginId", async () => {
    const expected = {
      user: {
        userId: USER,
        loginIds: ["ada@example.com"],
        email: "ada@example.com",
        name: "Ada Lovelace",
        verifiedEmail: true,
        status: "enabled",
        roleNames: [],
        tenants: [{ tenantId: "T1", tenantName: "T1", roleNames: ["member"] }],
        customAttributes: {},
      },
    };
    const byId = await load(`userId=${USER}`);
    expect(byId.status).toBe(200);
    expect(await byId.json()).toEqual(expected);
    const byLogin = await load("loginId=ada%40example.com");
    expect(await byLogin.json()).toEqual(expected);
  });

  it("loads extra users and follows setUser", async () => {
    const res = await load("loginId=grace");
    expect(((await res.json()) as { user: unknown }).user).toMatchObject({
      userId: "U2Grace",
      name: "Grace Hopper",
      roleNames: ["admin"],
      tenants: [
        { tenantId: "T1", tenantName: "T1", roleNames: ["owner"] },
        { tenantId: "T2", tenantName: "T2", roleNames: [] },
      ],
    });
    emu.setUser({ name: "Ada King" });
    try {
      const ada = (await (await load(`userId=${USER}`)).json()) as { user: { name: string; email: string } };
      expect(ada.user).toMatchObject({ name: "Ada King", email: "ada@example.com" });
    } finally {
      emu.setUser({ name: "Ada Lovelace" });
    }
  });

  it("answers 404 for an unknown user and 400 without a query", async () => {
    const res = await load("userId=U2Nobody");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(errorBody("User not found"));
    const none = await load("");
    expect(none.status).toBe(400);
  });

  it("requires the management key", async () => {
    const token = await emu.mintToken({ scope: "outbound.token.fetch" });
    for (const auth of [
      null,
      `Bearer ${emu.projectId}:${token}`,
      `Bearer P2OtherPr0ject00000000000009:${emu.managementKey}`,
      emu.managementKey,
    ]) {
      const res = await load(`userId=${USER}`, auth);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(errorBody("Unauthorized"));
    }
  });
});
