import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuthEvent,
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  DescopeMcpError,
  PayloadTooLargeError,
} from "../src/index.js";

const BASE_URL = "https://mcp.example.com";
const RESOURCE = `${BASE_URL}/mcp`;
const PRM = `${BASE_URL}/.well-known/oauth-protected-resource/mcp`;

let emu: DescopeEmulator;
let auth: DescopeMcpAuth;
const events: AuthEvent[] = [];

beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
  auth = createDescopeMcpAuth({
    issuerURL: emu.issuerURL,
    baseURL: BASE_URL,
    requiredScopes: ["mcp:use"],
    toolScopes: { write_note: ["notes:write"], purge: ["notes:write", "admin:purge"] },
    onEvent: (e) => {
      events.push(e);
      throw new Error("a throwing audit hook changes nothing");
    },
  });
});
afterAll(() => emu.close());

const call = (name: string, id = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } });
const req = (headers: Record<string, string> = {}, url = RESOURCE) =>
  new Request(url, { method: "POST", headers: { "content-type": "application/json", ...headers } });

async function answer(request: Request, body?: unknown) {
  try {
    const session = await auth.authenticate(request, { body });
    return { status: 200, userId: session.userId } as const;
  } catch (error) {
    const r = auth.errorResponse(error);
    return { status: r.status, challenge: r.headers.get("www-authenticate"), body: await r.json() };
  }
}

describe("authenticate", () => {
  it("passes a token with the server-wide scopes", async () => {
    const token = await emu.mintToken({ scope: "mcp:use" });
    expect(await answer(req({ authorization: `Bearer ${token}` }), call("whoami"))).toEqual({
      status: 200,
      userId: "U2EmulatorUser0001",
    });
  });

  it("challenges a request without credentials", async () => {
    expect(await answer(req())).toEqual({
      status: 401,
      challenge: `Bearer scope="mcp:use", resource_metadata="${PRM}"`,
      body: {
        error: "unauthorized",
        error_description: "Authentication required: send an OAuth access token as 'Authorization: Bearer <token>'",
      },
    });
  });

  it("refuses a token in the query string", async () => {
    const token = await emu.mintToken({ scope: "mcp:use" });
    const r = await answer(req({ authorization: `Bearer ${token}` }, `${RESOURCE}?access_token=${token}`));
    expect(r.status).toBe(400);
    expect(r.challenge).toBe(
      `Bearer error="invalid_request", error_description="Access tokens are not accepted in the query string; use the Authorization header", scope="mcp:use", resource_metadata="${PRM}"`,
    );
  });

  it("answers 403 naming token ∪ required scopes when the server-wide scope is missing", async () => {
    const token = await emu.mintToken({ scope: "openid" });
    expect(await answer(req({ authorization: `Bearer ${token}` }), call("whoami"))).toEqual({
      status: 403,
      challenge: `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: mcp:use", scope="mcp:use openid", resource_metadata="${PRM}"`,
      body: {
        error: "insufficient_scope",
        error_description: "The access token lacks required scopes: mcp:use",
        scope: "mcp:use openid",
        missing_scopes: ["mcp:use"],
        token_scopes: ["openid"],
        required_scopes: ["mcp:use"],
      },
    });
  });

  it("enforces per-tool scopes, also when a batch hides the call, naming every scope the operation needs", async () => {
    const token = await emu.mintToken({ scope: "mcp:use" });
    const single = await answer(req({ authorization: `Bearer ${token}` }), call("write_note"));
    expect(single.status).toBe(403);
    expect(single.challenge).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="mcp:use notes:write", resource_metadata="${PRM}"`,
    );
    const batch = await answer(req({ authorization: `Bearer ${token}` }), [
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
      call("whoami", 2),
      call("purge", 3),
    ]);
    expect(batch.status).toBe(403);
    expect(batch.body).toMatchObject({
      missing_scopes: ["notes:write", "admin:purge"],
      required_scopes: ["mcp:use", "notes:write", "admin:purge"],
    });
    const asText = await answer(req({ authorization: `Bearer ${token}` }), JSON.stringify([call("write_note")]));
    expect(asText.status).toBe(403);
  });

  it("passes a per-tool call with the scope, including through a wildcard", async () => {
    const exact = await emu.mintToken({ scope: "mcp:use notes:write" });
    expect((await answer(req({ authorization: `Bearer ${exact}` }), call("write_note"))).status).toBe(200);
    const wildcard = await emu.mintToken({ scope: "mcp:* notes:* admin:*" });
    expect((await answer(req({ authorization: `Bearer ${wildcard}` }), [call("purge")])).status).toBe(200);
  });

  it("accepts the plain input shape used by Node adapters, with duplicate headers refused", async () => {
    const token = await emu.mintToken({ scope: "mcp:use" });
    await expect(
      auth.authenticate({ authorization: [`Bearer ${token}`], url: "/mcp", method: "POST" }, { body: call("whoami") }),
    ).resolves.toMatchObject({ userId: "U2EmulatorUser0001" });
    // A GET carries no tool call: no body is needed.
    await expect(
      auth.authenticate({ authorization: [`Bearer ${token}`], url: "/mcp", method: "GET" }),
    ).resolves.toMatchObject({ userId: "U2EmulatorUser0001" });
    await expect(
      auth.authenticate({ authorization: [`Bearer ${token}`, `Bearer ${token}`], url: "/mcp" }),
    ).rejects.toMatchObject({
      code: "invalid_request",
      status: 400,
    });
  });

  it("reports every decision to onEvent, never with the token", async () => {
    events.length = 0;
    const token = await emu.mintToken({ scope: "mcp:use", azp: "client-7" });
    await answer(req({ authorization: `Bearer ${token}` }), call("write_note"));
    await answer(req({ authorization: `Bearer ${token}` }), call("whoami"));
    await answer(req({ authorization: "Bearer nope" }));
    expect(events).toEqual([
      {
        type: "deny",
        reason: "insufficient_scope",
        status: 403,
        userId: "U2EmulatorUser0001",
        clientId: "client-7",
        tools: ["write_note"],
        requiredScopes: ["mcp:use", "notes:write"],
        missingScopes: ["notes:write"],
        description: "The access token lacks required scopes: notes:write",
      },
      {
        type: "allow",
        reason: "ok",
        status: 200,
        userId: "U2EmulatorUser0001",
        clientId: "client-7",
        tools: ["whoami"],
        requiredScopes: ["mcp:use"],
      },
      {
        type: "deny",
        reason: "invalid_token",
        status: 401,
        requiredScopes: ["mcp:use"],
        description: "The access token is not a compact JWT",
      },
    ]);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it("tells the operator what a refused token was for: the deny record carries its aud and iss, never the token", async () => {
    events.length = 0;
    // A real Descope token minted without the MCP Server URL set in the console: aud = [clientId, projectId].
    const token = await emu.mintToken({ scope: "mcp:use", aud: ["client-42", emu.projectId] });
    const refused = await answer(req({ authorization: `Bearer ${token}` }), call("whoami"));
    expect(refused).toMatchObject({
      status: 401,
      body: {
        error: "invalid_token",
        error_description: `The access token was not issued for this resource (audience mismatch): it must be issued for ${RESOURCE}`,
      },
    });
    expect(events).toEqual([
      {
        type: "deny",
        reason: "invalid_token",
        status: 401,
        requiredScopes: ["mcp:use"],
        description: `The access token was not issued for this resource (audience mismatch): it must be issued for ${RESOURCE}`,
        tokenAudience: ["client-42", emu.projectId],
        tokenIssuer: emu.issuerURL,
      },
    ]);
    expect(JSON.stringify(events)).not.toContain(token.split(".")[2]);
    // A forged token (bad signature) says nothing about its claims: they were never trusted.
    events.length = 0;
    const forged = `${token.slice(0, token.lastIndexOf(".") + 1)}${"A".repeat(342)}`;
    await answer(req({ authorization: `Bearer ${forged}` }), call("whoami"));
    expect(events[0]).toMatchObject({ reason: "invalid_token", description: "The access token signature is invalid" });
    expect(events[0]).not.toHaveProperty("tokenAudience");
  });

  it("fails closed when per-tool scopes are configured and the body was not seen", async () => {
    const token = await emu.mintToken({ scope: "mcp:use notes:write" });
    const refusal = {
      code: "invalid_request",
      status: 400,
      message:
        "The request body could not be read, so the tools it calls cannot be authorized; send the complete JSON-RPC message",
    };
    // No body given, a reader that found nothing, a method that is not known: never "no tool called".
    await expect(auth.authenticate({ authorization: `Bearer ${token}`, method: "POST" })).rejects.toMatchObject(
      refusal,
    );
    await expect(
      auth.authenticate({ authorization: `Bearer ${token}` }, { readBody: async () => undefined }),
    ).rejects.toMatchObject(refusal);
    await expect(auth.authenticate(req({ authorization: `Bearer ${token}` }))).rejects.toMatchObject(refusal);
    // Text that is not JSON, an empty body, wrong or missing Content-Type, an encoding, an oversize Content-Length.
    await expect(
      auth.authenticate({ authorization: `Bearer ${token}`, method: "POST" }, { body: "{not json" }),
    ).rejects.toMatchObject({ status: 400, message: "The request body is not valid JSON" });
    await expect(
      auth.authenticate({ authorization: `Bearer ${token}`, method: "POST" }, { body: new Uint8Array(0) }),
    ).rejects.toMatchObject({ status: 400 });
    for (const [bodyHeaders, status] of [
      [{ contentType: "text/plain" }, 400],
      [{ contentType: undefined }, 400],
      [{ contentType: "application/json; charset=latin1" }, 400],
      [{ contentType: "application/json", contentEncoding: "gzip" }, 400],
      [{ contentType: "application/json", contentLength: String(4 * 1024 * 1024 + 1) }, 413],
    ] as const) {
      await expect(
        auth.authenticate({ authorization: `Bearer ${token}`, method: "POST" }, { body: call("whoami"), bodyHeaders }),
      ).rejects.toMatchObject({ status });
    }
    // The reader's own typed refusals pass through unchanged.
    await expect(
      auth.authenticate(
        { authorization: `Bearer ${token}`, method: "POST" },
        {
          readBody: async () => {
            throw new PayloadTooLargeError(10);
          },
        },
      ),
    ).rejects.toMatchObject({ status: 413, code: "payload_too_large" });
    // The reader runs only after the token passed.
    let reads = 0;
    await expect(
      auth.authenticate(
        { authorization: "Bearer nope", method: "POST" },
        {
          readBody: async () => {
            reads++;
            return JSON.stringify(call("whoami"));
          },
        },
      ),
    ).rejects.toMatchObject({ status: 401 });
    expect(reads).toBe(0);
  });

  it("merges a route's own scopes with the server-wide and per-tool ones into one decision", async () => {
    const token = await emu.mintToken({ scope: "mcp:use" });
    const authorization = `Bearer ${token}`;
    const routeScopes = ["admin:read", "mcp:use", ""];
    // One 403 names the route's scopes together with the tool's (no second step-up round).
    await expect(
      auth.authenticate({ authorization, method: "POST" }, { body: call("write_note"), routeScopes }),
    ).rejects.toMatchObject({
      status: 403,
      requiredScopes: ["mcp:use", "admin:read", "notes:write"],
      missingScopes: ["admin:read", "notes:write"],
    });
    const gated = await auth.gate({ method: "POST", authorization, body: call("whoami"), routeScopes });
    expect(gated.allow === false && gated.result.headers["www-authenticate"]).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: admin:read", scope="admin:read mcp:use", resource_metadata="${PRM}"`,
    );
    const enough = await emu.mintToken({ scope: "mcp:use admin:*" });
    const passed = await auth.gate({
      method: "POST",
      authorization: `Bearer ${enough}`,
      body: call("whoami"),
      routeScopes,
    });
    expect(passed.allow).toBe(true);
  });

  it("checks a route that is not the MCP endpoint without reading its body", async () => {
    const token = await emu.mintToken({ scope: "mcp:use" });
    let reads = 0;
    const readBody = async () => {
      reads++;
      return "";
    };
    const session = await auth.authenticate(
      { authorization: `Bearer ${token}`, method: "POST" },
      { mcpEndpoint: false, readBody, bodyHeaders: { contentType: "multipart/form-data" } },
    );
    expect(session.userId).toBe("U2EmulatorUser0001");
    expect(reads).toBe(0);
    await expect(
      auth.authenticate(
        { authorization: `Bearer ${token}`, method: "PUT" },
        { mcpEndpoint: false, routeScopes: ["admin:write"] },
      ),
    ).rejects.toMatchObject({ status: 403, missingScopes: ["admin:write"] });
  });

  it("exposes the scope helpers", async () => {
    const session = await auth.verifyToken(await emu.mintToken({ scope: "notes:*" }));
    expect(auth.hasScopes(session, "notes:write")).toBe(true);
    expect(() => auth.requireScopes(session, ["admin"])).toThrow(DescopeMcpError);
    expect(auth.scopesFor([call("purge")])).toEqual(["mcp:use", "notes:write", "admin:purge"]);
  });
});
