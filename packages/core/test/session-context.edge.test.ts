// The caller, handed over explicitly (`getSession(ctx)` on the MCP SDK's contexts, a request, an
// AuthInfo) and implicitly (the `sessionContext` option: `getSession()` through AsyncLocalStorage),
// through the Web gate. Runs on Node and inside workerd (with nodejs_compat); the runtime without
// AsyncLocalStorage is covered by the Hono adapter's workerd.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RemoteEmulator, startEmulator } from "../../../test/edge/emulator.js";
import { attempt, resetSessionContext } from "../../../test/support/session-context.js";
import {
  ConfigurationError,
  createDescopeMcpAuth,
  type DescopeMcpAuthOptions,
  type DescopeSession,
  getSession,
  type McpAuthInfo,
  NoSessionError,
  requireSession,
  sessionFromClaims,
} from "../src/index.js";

const BASE_URL = "https://mcp.example.com";
const RESOURCE = `${BASE_URL}/mcp`;

let emu: RemoteEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu?.close());

const engine = (extra: Partial<DescopeMcpAuthOptions> = {}) =>
  createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, ...extra });

const whoami = (token: string) =>
  new Request(RESOURCE, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } }),
  });

describe("getSession(source): the caller the gate handed over", () => {
  let session: DescopeSession;
  let authInfo: McpAuthInfo;
  beforeAll(async () => {
    const auth = engine();
    session = await auth.verifyToken(await emu.mintToken({ aud: RESOURCE, sub: "U-source" }));
    authInfo = auth.toAuthInfo(session);
  });

  it("reads it from an SDK v2 context, an SDK v1 extra, a request the gate let through, or the AuthInfo", () => {
    const v2 = { mcpReq: { id: 1 }, http: { authInfo } };
    const v1 = { signal: new AbortController().signal, requestId: 1, authInfo };
    const request = { method: "POST", headers: {}, auth: authInfo };
    for (const source of [v2, v1, request, authInfo]) {
      expect(getSession(source)).toBe(session);
      expect(requireSession(source)).toBe(session);
    }
  });

  it("answers undefined (requireSession: NoSessionError) where there is no Descope caller", () => {
    const forged = { ...authInfo, extra: { session: { ...session } } }; // not the gate's (frozen) session
    for (const source of [
      { mcpReq: { id: 1 } }, // SDK v2 over stdio: no http
      { mcpReq: { id: 1 }, http: {} },
      { signal: new AbortController().signal, requestId: 1 }, // SDK v1, unauthenticated transport
      { method: "GET", headers: {} }, // a request the gate did not let through
      { ...authInfo, extra: {} }, // another verifier's AuthInfo
      forged,
    ]) {
      expect(getSession(source)).toBeUndefined();
      expect(() => requireSession(source)).toThrow(NoSessionError);
    }
  });

  it("refuses what is no context at all with a ConfigurationError (no silent undefined)", () => {
    for (const wrong of [null, "ctx", 42, {}, { text: "a tool's arguments" }]) {
      expect(() => getSession(wrong as never)).toThrow(ConfigurationError);
      expect(() => getSession(wrong as never)).toThrow(/takes the MCP tool's context/);
    }
  });
});

describe("the sessionContext option", () => {
  it("is off by default: the handler gets the caller, and getSession() says how to turn it on", async () => {
    resetSessionContext();
    const auth = engine();
    expect(auth.config.sessionContext).toBe(false);
    const token = await emu.mintToken({ aud: RESOURCE, sub: "U-off" });
    const seen: string[] = [];
    const r = await auth.handle(whoami(token), async (_request, { authInfo, session }) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(
        session.userId,
        getSession(authInfo)?.userId ?? "none",
        attempt(() => getSession()),
      );
      return new Response("ok");
    });
    expect(r?.status).toBe(200);
    expect(seen.slice(0, 2)).toEqual(["U-off", "U-off"]);
    expect(seen[2]).toMatch(
      /^getSession\(\) without an argument needs the session context: turn on the sessionContext/,
    );
    expect(() => getSession()).toThrow(ConfigurationError);
    expect(auth.runInSession(await auth.verifyToken(token), () => attempt(() => getSession()))).toMatch(
      /needs the session context/,
    );
  });

  it("on: the handler and everything it awaits see the caller; concurrent callers never see each other's", async () => {
    const auth = engine({ sessionContext: true });
    expect(auth.config.sessionContext).toBe(true);
    const users = Array.from({ length: 20 }, (_, i) => `U-on-${i}`);
    const tokens = await Promise.all(users.map((sub) => emu.mintToken({ aud: RESOURCE, sub })));
    const answers = await Promise.all(
      tokens.map(async (token, i) => {
        const r = await auth.handle(whoami(token), async () => {
          await new Promise((resolve) => setTimeout(resolve, (i * 7) % 11));
          await Promise.resolve();
          return new Response(attempt(() => getSession()));
        });
        return r?.text();
      }),
    );
    expect(answers).toEqual(users);
    expect(getSession()).toBeUndefined(); // outside any request
    expect(() => requireSession()).toThrow(NoSessionError);
    const session = await auth.verifyToken(tokens[0] as string);
    expect(auth.runInSession(session, () => getSession()?.userId)).toBe("U-on-0");
  });
});

describe("toAuthInfo", () => {
  it("is one frozen AuthInfo per session, with this server's resource and metadata URL", async () => {
    const auth = engine();
    const token = await emu.mintToken({ aud: RESOURCE, sub: "U-info", scope: "openid notes:read", azp: "C1" });
    const session = await auth.verifyToken(token);
    const info = auth.toAuthInfo(session);
    expect(auth.toAuthInfo(session)).toBe(info);
    expect(auth.toAuthInfo(await auth.verifyToken(token))).toBe(info); // the cached session: the same object
    expect(info).toMatchObject({
      token,
      clientId: "C1",
      scopes: ["openid", "notes:read"],
      resourceMetadataUrl: `${BASE_URL}/.well-known/oauth-protected-resource/mcp`,
      extra: { session, userId: "U-info" },
    });
    expect(info.resource?.href).toBe(RESOURCE);
    for (const frozen of [info, info.scopes, info.extra]) expect(Object.isFrozen(frozen)).toBe(true);
    expect(() => (info.scopes as string[]).push("admin:*")).toThrow(TypeError);
    // A session of another engine (or made by hand) gets its own.
    const other = sessionFromClaims(
      token,
      { sub: "U-info", iss: emu.issuerURL, exp: 2_000_000_000 },
      { projectId: "P" },
    );
    expect(auth.toAuthInfo(other)).not.toBe(info);
  });
});
