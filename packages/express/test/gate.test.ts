import { ConfigurationError, type McpAuthInfo } from "@descope-mcp/core";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import type { NextFunction, Request, Response } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_URL, FLAVORS, listen, type Running, rawRequest, toolCall } from "./helpers.js";

const RESOURCE = `${BASE_URL}/mcp`;
const PRM = `${BASE_URL}/.well-known/oauth-protected-resource/mcp`;
const EXPOSE = "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
});
afterAll(() => emu.close());

const challenge = (error?: string, description?: string) =>
  error
    ? `Bearer error="${error}", error_description="${description}", scope="mcp:use", resource_metadata="${PRM}"`
    : `Bearer scope="mcp:use", resource_metadata="${PRM}"`;

/** What the MCP route saw: proof the request got past the gate. */
function mcpRoute(hits: string[]) {
  return (req: Request, res: Response) => {
    hits.push(`${req.method} ${req.originalUrl}`);
    const auth = req.auth as McpAuthInfo | undefined;
    res.json({ reached: true, userId: auth?.extra?.userId ?? null, scopes: auth?.scopes ?? null });
  };
}

describe.each(FLAVORS)("the gate on $name", ({ name, express, adapter }) => {
  let server: Running;
  const hits: string[] = [];

  beforeAll(async () => {
    const app = express();
    app.get("/health", (_req, res) => {
      res.json({ status: "ok" });
    });
    app.use(adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, requiredScopes: ["mcp:use"] }));
    app.get("/public-after", (_req, res) => {
      res.json({ status: "public" });
    });
    app.all("/mcp", express.json(), mcpRoute(hits));
    server = await listen(app);
  });
  afterAll(() => server.close());

  const token = (claims: Record<string, unknown> = {}) => emu.mintToken({ scope: "mcp:use", ...claims });
  const post = (headers: Record<string, string>, path = "/mcp") =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(toolCall("whoami")),
    });

  it("runs the adapter on this Express major's own Router", () => {
    const router = adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    // Express 4's Router carries `process_params`; Express 5's (router@2) does not.
    expect(typeof (router as unknown as { process_params?: unknown }).process_params).toBe(
      name === "Express 4" ? "function" : "undefined",
    );
  });

  it("leaves routes outside mcpPath public, before and after the router", async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const after = await fetch(`${server.url}/public-after`);
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ status: "public" });
    expect(after.headers.get("www-authenticate")).toBeNull();
  });

  it("challenges a request without credentials with 401, scope and the absolute PRM URL", async () => {
    const before = hits.length;
    const res = await post({});
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer scope="mcp:use", resource_metadata="${PRM}"`);
    expect(res.headers.get("access-control-expose-headers")).toBe(EXPOSE);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({
      error: "unauthorized",
      error_description: "Authentication required: send an OAuth access token as 'Authorization: Bearer <token>'",
    });
    expect(hits.length).toBe(before);
  });

  it("gates every method the MCP endpoint serves, and answers 405 with Allow to the others", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(`${server.url}/mcp`, { method });
      expect(res.status, method).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe(challenge());
    }
    const before = hits.length;
    const bearer = `Bearer ${await token()}`;
    for (const method of ["PUT", "PATCH", "HEAD", "TRACE", "PROPFIND"]) {
      for (const authorization of [undefined, bearer]) {
        const res = await rawRequest(`${server.url}/mcp`, {
          method,
          headers: authorization ? ["authorization", authorization] : [],
        });
        expect(res.status, method).toBe(405);
        expect(res.headers.allow).toBe("GET, POST, DELETE, OPTIONS");
        expect(res.headers["www-authenticate"]).toBeUndefined();
        if (method !== "HEAD") {
          expect(JSON.parse(res.body)).toEqual({
            error: "method_not_allowed",
            error_description: `${method} is not allowed here`,
          });
        }
      }
    }
    expect(hits.length).toBe(before);
  });

  it("lets a valid token through and hands the MCP AuthInfo to the route as req.auth", async () => {
    const res = await post({ authorization: `Bearer ${await token({ sub: "U-gate-1" })}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ reached: true, userId: "U-gate-1", scopes: ["mcp:use"] });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toBe(EXPOSE);
    expect(hits.at(-1)).toBe("POST /mcp");
  });

  it("accepts the scheme name in any case", async () => {
    const res = await post({ authorization: `bEaReR ${await token()}` });
    expect(res.status).toBe(200);
  });

  it.each([
    ["expired", "The access token expired"],
    [
      "wrongAudience",
      "The access token was not issued for this resource (audience mismatch): it must be issued for https://mcp.example.com/mcp",
    ],
    ["wrongIssuer", "The access token was issued by an issuer this server does not trust"],
    ["otherProject", "The access token was issued by an issuer this server does not trust"],
    ["algNone", "The access token is signed with an algorithm this server does not accept"],
    ["hs256WithPublicKey", "The access token is signed with an algorithm this server does not accept"],
    ["foreignKey", "The access token signature is invalid"],
    ["tampered", "The access token signature is invalid"],
    ["missingExp", "The access token has no expiry (exp)"],
  ] as const)("refuses a %s token with 401 invalid_token", async (kind, description) => {
    const before = hits.length;
    const bad = await emu.tokens[kind]({ scope: "mcp:use" });
    const res = await post({ authorization: `Bearer ${bad}` });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(challenge("invalid_token", description));
    expect(res.headers.get("access-control-expose-headers")).toBe(EXPOSE);
    expect(await res.json()).toEqual({ error: "invalid_token", error_description: description });
    expect(hits.length).toBe(before);
  });

  it("refuses a token that is not a JWT at all", async () => {
    const res = await post({ authorization: "Bearer not-a-jwt" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      challenge("invalid_token", "The access token is not a compact JWT"),
    );
  });

  it("answers a foreign scheme (Basic) with 401 and a challenge without error", async () => {
    const res = await post({ authorization: "Basic dXNlcjpwYXNz" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(challenge());
    expect(await res.json()).toEqual({
      error: "unauthorized",
      error_description: "The Basic authentication scheme is not supported; use Bearer",
    });
  });

  it("answers two Authorization headers with 400 invalid_request", async () => {
    const good = await token();
    const res = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: [
        "content-type",
        "application/json",
        "authorization",
        `Bearer ${good}`,
        "authorization",
        `Bearer ${good}`,
      ],
      body: JSON.stringify(toolCall("whoami")),
    });
    expect(res.status).toBe(400);
    expect(res.headers["www-authenticate"]).toBe(challenge("invalid_request", "Send exactly one Authorization header"));
    expect(res.headers["access-control-expose-headers"]).toBe(EXPOSE);
    expect(JSON.parse(res.body)).toEqual({
      error: "invalid_request",
      error_description: "Send exactly one Authorization header",
    });
  });

  it("answers a token in the query string with 400, even next to a valid header", async () => {
    const good = await token();
    const description = "Access tokens are not accepted in the query string; use the Authorization header";
    for (const headers of [{}, { authorization: `Bearer ${good}` }] as Record<string, string>[]) {
      const res = await post(headers, `/mcp?access_token=${good}`);
      expect(res.status).toBe(400);
      expect(res.headers.get("www-authenticate")).toBe(challenge("invalid_request", description));
      expect(await res.json()).toEqual({ error: "invalid_request", error_description: description });
    }
  });

  it.each([
    ["Bearer", "The Bearer token is empty"],
    ["Bearer a b", "The Authorization header must hold exactly one Bearer token"],
    ["Bearer,", "The Authorization header is malformed"],
  ])("answers the malformed header %j with 400", async (header, description) => {
    const res = await post({ authorization: header });
    expect(res.status).toBe(400);
    expect(res.headers.get("www-authenticate")).toBe(challenge("invalid_request", description));
  });

  it("answers a CORS preflight on the MCP path with 204 and CORS headers, never 401", async () => {
    for (const path of ["/mcp", "/MCP", "/mcp/"]) {
      const res = await fetch(`${server.url}${path}`, {
        method: "OPTIONS",
        headers: {
          origin: "https://inspector.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
          authorization: "Bearer garbage",
        },
      });
      expect(res.status, path).toBe(204);
      expect(Object.fromEntries([...res.headers].filter(([n]) => n.startsWith("access-control-")))).toEqual({
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
        "access-control-allow-headers":
          "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID",
        "access-control-expose-headers": EXPOSE,
        "access-control-max-age": "86400",
      });
      expect(res.headers.get("www-authenticate")).toBeNull();
      expect(await res.text()).toBe("");
    }
  });

  it("gates the case and trailing-slash variants Express routes to the MCP handler (no bypass)", async () => {
    const targets = [
      "/mcp",
      "/MCP",
      "/Mcp",
      "/mcp/",
      "/MCP/",
      "/mcp?x=1",
      "/mcp/?x=1",
      "/mcp//",
      "//mcp",
      "/./mcp",
      "/mcp/.",
      "/%6dcp",
      "/%6Dcp",
      "/mcp%2F",
      "/mcp;x",
      "/mcp%20",
      "/mcp%00",
      "/mcp#frag",
      `${server.url}/mcp`,
      `${server.url}/MCP/`,
    ];
    // The oracle: the same app without the gate.
    const oracleHits: string[] = [];
    const open = express();
    open.all("/mcp", express.json(), mcpRoute(oracleHits));
    const openServer = await listen(open);
    try {
      const routed: string[] = [];
      for (const path of targets) {
        const before = oracleHits.length;
        const o = await rawRequest(openServer.url, { method: "POST", path: path.replace(server.url, openServer.url) });
        if (oracleHits.length > before) {
          expect(o.status).toBe(200);
          routed.push(path);
        }
      }
      // The oracle is not vacuous: Express does route these to the MCP handler.
      expect(routed).toEqual(expect.arrayContaining(["/mcp", "/MCP", "/Mcp", "/mcp/", "/MCP/", `${server.url}/mcp`]));
      const before = hits.length;
      for (const path of routed) {
        const res = await rawRequest(server.url, { method: "POST", path });
        expect(res.status, path).toBe(401);
        expect(res.headers["www-authenticate"], path).toBe(challenge());
      }
      // …and no variant at all, routed or not, reaches the handler through the gate.
      for (const path of targets) await rawRequest(server.url, { method: "POST", path });
      expect(hits.length).toBe(before);
    } finally {
      await openServer.close();
    }
  });

  it("fails closed when mounted under a path that hides mcpPath from the gate", async () => {
    const errors: unknown[] = [];
    const app = express();
    // Wrong: mcpPath includes the mount point, so the router only ever sees "/mcp".
    app.use("/api", adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, mcpPath: "/api/mcp" }));
    app.all("/api/mcp", mcpRoute(hits));
    app.get("/api/status", (_req, res) => {
      res.json({ status: "ok" });
    });
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(error);
      res.status(500).json({ error: "server_error" });
    });
    const s = await listen(app);
    const before = hits.length;
    try {
      for (const path of ["/api/mcp", "/API/MCP/", "/api/mcp/sub"]) {
        const res = await fetch(`${s.url}${path}`, { method: "POST" });
        expect(res.status, path).toBe(500);
        expect(errors.at(-1)).toBeInstanceOf(ConfigurationError);
        expect((errors.at(-1) as Error).message).toBe(
          'descopeMcpAuth() must be mounted at the app root (app.use(router)): under a path it cannot gate mcpPath "/api/mcp"',
        );
      }
      expect(hits.length).toBe(before);
      // Other routes under the mount point are unaffected.
      const status = await fetch(`${s.url}/api/status`);
      expect(status.status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("gates a sub-app mounted under a path when mcpPath is relative to it", async () => {
    const api = express();
    api.use(
      adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: `${BASE_URL}/api`, requiredScopes: ["mcp:use"] }),
    );
    api.all("/mcp", mcpRoute(hits));
    const app = express();
    app.use("/api", api);
    const s = await listen(app);
    try {
      const res = await fetch(`${s.url}/api/mcp`, { method: "POST" });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe(
        `Bearer scope="mcp:use", resource_metadata="${BASE_URL}/.well-known/oauth-protected-resource/api/mcp"`,
      );
      const ok = await fetch(`${s.url}/api/mcp`, {
        method: "POST",
        headers: { authorization: `Bearer ${await emu.mintToken({ aud: `${BASE_URL}/api/mcp`, scope: "mcp:use" })}` },
      });
      expect(ok.status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("answers 503 with Retry-After and no challenge while Descope's keys are unreachable", async () => {
    const app = express();
    app.use(adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, timeouts: { jwks: 1000 } }));
    app.all("/mcp", mcpRoute(hits));
    const s = await listen(app);
    const before = hits.length;
    emu.setFault("jwks", { status: 500 });
    try {
      const res = await fetch(`${s.url}/mcp`, {
        method: "POST",
        headers: { authorization: `Bearer ${await emu.mintToken()}` },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get("www-authenticate")).toBeNull();
      expect(res.headers.get("retry-after")).toBe("5");
      expect(await res.json()).toEqual({
        error: "temporarily_unavailable",
        error_description: "Descope JWKS answered HTTP 500",
      });
      expect(hits.length).toBe(before);
    } finally {
      emu.setFault("jwks", undefined);
      await s.close();
    }
  });

  it("gates sub-paths of mcpPath too", async () => {
    const res = await fetch(`${server.url}/mcp/anything`, { method: "POST" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(challenge());
  });

  it("with cors: false leaves OPTIONS on the MCP path to the app", async () => {
    const app = express();
    app.use(adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL }, { cors: false }));
    app.options("/mcp", (_req, res) => {
      res.status(200).set("x-answered-by", "app").json({ preflight: "mine" });
    });
    app.post("/mcp", (_req, res) => {
      res.json({ reached: true });
    });
    const s = await listen(app);
    try {
      const res = await fetch(`${s.url}/mcp`, { method: "OPTIONS" });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-answered-by")).toBe("app");
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(await res.json()).toEqual({ preflight: "mine" });
      // The gate still gates, and its challenge still carries the core's CORS headers.
      const denied = await fetch(`${s.url}/mcp`, { method: "POST" });
      expect(denied.status).toBe(401);
      expect(denied.headers.get("www-authenticate")).toBe(`Bearer scope="openid", resource_metadata="${PRM}"`);
      expect(denied.headers.get("access-control-expose-headers")).toBe(EXPOSE);
      // A successful request gets no CORS headers from the adapter.
      const ok = await fetch(`${s.url}/mcp`, {
        method: "POST",
        headers: { authorization: `Bearer ${await emu.mintToken()}` },
      });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await s.close();
    }
  });

  it("points resource_metadata at a PRM URL that really serves this resource", async () => {
    const app = express();
    const s = await listen(app);
    try {
      const router = adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: s.url });
      app.use(router);
      app.post("/mcp", (_req, res) => {
        res.json({ reached: true });
      });
      const res = await fetch(`${s.url}/mcp`, { method: "POST" });
      expect(res.status).toBe(401);
      const header = res.headers.get("www-authenticate");
      expect(header).toBe(
        `Bearer scope="openid", resource_metadata="${s.url}/.well-known/oauth-protected-resource/mcp"`,
      );
      const prmURL = /resource_metadata="([^"]+)"/.exec(header ?? "")?.[1] as string;
      const prm = (await (await fetch(prmURL)).json()) as { resource: string };
      expect(prm.resource).toBe(`${s.url}/mcp`);
      // A token minted for that resource passes.
      const ok = await fetch(`${s.url}/mcp`, {
        method: "POST",
        headers: { authorization: `Bearer ${await emu.mintToken({ aud: prm.resource })}` },
      });
      expect(ok.status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
