// The Web-standard gate (`auth.handle`, `auth.protect`) as every Web host uses it: a `Request` in, a
// `Response` out. Runs unchanged on Node and inside workerd (the vitest "workerd" project); the
// emulator runs on Node either way (test/edge/emulator.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inWorkerd, type RemoteEmulator, startEmulator } from "../../../test/edge/emulator.js";
import {
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  type DescopeMcpAuthOptions,
  type McpRequestContext,
  readWebBody,
} from "../src/index.js";

const BASE_URL = "https://mcp.example.com";
const RESOURCE = `${BASE_URL}/mcp`;
const PRM = `${BASE_URL}/.well-known/oauth-protected-resource/mcp`;
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version",
};

let emu: RemoteEmulator;
let auth: DescopeMcpAuth;
let reader: string; // openid
let writer: string; // openid notes:write

const engine = (extra: Partial<DescopeMcpAuthOptions> = {}) =>
  createDescopeMcpAuth({
    issuerURL: emu.issuerURL,
    baseURL: BASE_URL,
    toolScopes: { write_note: ["notes:write"] },
    challengeScopes: ["openid"],
    ...extra,
  });

beforeAll(async () => {
  emu = await startEmulator();
  auth = engine();
  reader = await emu.mintToken({ aud: RESOURCE, scope: "openid" });
  writer = await emu.mintToken({ aud: RESOURCE, scope: "openid notes:write" });
});
afterAll(() => emu?.close());

const call = (name: string, id = 1) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: { text: "x" } },
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`${BASE_URL}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body),
  });
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A handler that records what it was given and answers 200 with it. */
function recorder() {
  const seen: Array<{ request: Request; context: McpRequestContext }> = [];
  const handler = (request: Request, context: McpRequestContext) => {
    seen.push({ request, context });
    return Response.json({ ran: true, body: context.parsedBody ?? null });
  };
  return { seen, handler };
}

const headersOf = (r: Response) => Object.fromEntries(r.headers);

describe("auth.handle", () => {
  it("runs where the test says it runs", () => {
    const agent = typeof navigator === "undefined" ? "Node.js" : navigator.userAgent;
    expect(agent).toMatch(inWorkerd ? /^Cloudflare-Workers$/ : /^Node\.js/);
  });

  it("hands the handler the caller's authInfo, session and the parsed body it judged", async () => {
    const { seen, handler } = recorder();
    const r = (await auth.handle(post("/mcp", call("write_note"), bearer(writer)), handler)) as Response;
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ran: true, body: call("write_note") });
    expect(seen).toHaveLength(1);
    const { request, context } = seen[0] as (typeof seen)[number];
    expect(request.bodyUsed).toBe(true); // read once, by the gate
    expect(context.session.userId).toBe("U2EmulatorUser0001");
    expect(context.session.scopes).toEqual(["openid", "notes:write"]);
    expect(context.authInfo).toMatchObject({
      token: writer,
      scopes: ["openid", "notes:write"],
      resource: new URL(RESOURCE),
      resourceMetadataUrl: PRM,
      extra: { userId: "U2EmulatorUser0001" },
    });
  });

  it("adds the CORS headers to the handler's answer, also when its headers are immutable", async () => {
    const mutable = (await auth.handle(post("/mcp", call("whoami"), bearer(reader)), () =>
      Response.json({ ok: 1 }, { headers: { "x-app": "1" } }),
    )) as Response;
    expect(headersOf(mutable)).toMatchObject({ ...CORS, "x-app": "1" });
    const upstream = await fetch(emu.jwksURL); // a fetch answer: its headers are immutable
    const immutable = (await auth.handle(post("/mcp", call("whoami"), bearer(reader)), () => upstream)) as Response;
    expect(headersOf(immutable)).toMatchObject(CORS);
    expect(immutable.status).toBe(upstream.status);
  });

  it("refuses a tool call the token lacks scopes for, before the handler", async () => {
    const { seen, handler } = recorder();
    const r = (await auth.handle(post("/mcp", [call("whoami", 1), call("write_note", 2)], bearer(reader)), handler))!;
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="notes:write openid", resource_metadata="${PRM}"`,
    );
    expect(headersOf(r)).toMatchObject({ "access-control-allow-origin": "*" });
    expect(seen).toEqual([]);
  });

  it.each([
    ["no credentials", post("/mcp", call("whoami")), 401, "unauthorized"],
    [
      "two Bearer tokens in one header",
      post("/mcp", call("whoami"), { authorization: "Bearer a, Bearer b" }),
      400,
      "invalid_request",
    ],
    ["a token in the query string", post("/mcp?access_token=abc", call("whoami")), 400, "invalid_request"],
    ["a forged token", post("/mcp", call("whoami"), bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")), 401, "invalid_token"],
  ])("answers %s with %i and never calls the handler", async (_name, request, status, error) => {
    const { seen, handler } = recorder();
    const r = (await auth.handle(request, handler))!;
    expect(r.status).toBe(status);
    expect((await r.json()).error).toBe(error);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(seen).toEqual([]);
  });

  it.each([
    ["text/plain", post("/mcp", call("write_note"), { "content-type": "text/plain" }), 400, /application\/json/],
    ["gzip-encoded", post("/mcp", call("write_note"), { "content-encoding": "gzip" }), 400, /Content-Encoding/],
    ["not JSON", post("/mcp", '{"jsonrpc":'), 400, /not valid JSON/],
    ["empty", post("/mcp", ""), 400, /empty/],
    ["a JSON string", post("/mcp", '"write_note"'), 400, /not a JSON-RPC message/],
    ["invalid UTF-8", post("/mcp", new Uint8Array([0x7b, 0xff, 0x7d])), 400, /UTF-8/],
  ])(
    "refuses a body it cannot judge (%s) with %i (the fail-closed body contract)",
    async (_n, request, status, why) => {
      const { seen, handler } = recorder();
      request.headers.set("authorization", `Bearer ${writer}`);
      const r = (await auth.handle(request, handler))!;
      expect(r.status).toBe(status);
      expect((await r.json()).error_description).toMatch(why);
      expect(seen).toEqual([]);
    },
  );

  it("refuses a body over bodyLimit with 413 as soon as it crosses it", async () => {
    const small = engine({ bodyLimit: 64 });
    const { seen, handler } = recorder();
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode(" ".repeat(40)));
        if (pulled > 1000) controller.close();
      },
    });
    const request = new Request(RESOURCE, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(writer) },
      body: stream,
      // @ts-expect-error: Node needs `duplex` for a streamed body; workerd ignores it
      duplex: "half",
    });
    const r = (await small.handle(request, handler))!;
    expect(r.status).toBe(413);
    expect(pulled).toBeLessThan(10);
    expect(seen).toEqual([]);
    const declared = post("/mcp", call("write_note"), { ...bearer(writer), "content-length": "65" });
    expect((await small.handle(declared, handler))?.status).toBe(413);
  });

  it("refuses a body whose stream fails mid-way (an aborted upload) with 400", async () => {
    const { seen, handler } = recorder();
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error("connection reset"));
        sent = true;
        controller.enqueue(new TextEncoder().encode(JSON.stringify(call("write_note")).slice(0, 20)));
      },
    });
    const request = new Request(RESOURCE, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(writer) },
      body: stream,
      // @ts-expect-error: see above
      duplex: "half",
    });
    const r = (await auth.handle(request, handler))!;
    expect(r.status).toBe(400);
    expect((await r.json()).error_description).toMatch(/could not be read completely/);
    expect(seen).toEqual([]);
  });

  it("refuses a body an earlier layer consumed (400, not a 500), unless that layer hands over what it parsed", async () => {
    const { seen, handler } = recorder();
    const consumed = post("/mcp", call("write_note"), bearer(reader));
    await consumed.text();
    const r = (await auth.handle(consumed, handler))!;
    expect(r.status).toBe(400);
    expect((await r.json()).error_description).toMatch(/consumed before the authorization gate/);

    const locked = post("/mcp", call("write_note"), bearer(writer));
    locked.body?.getReader();
    expect((await auth.handle(locked, handler))?.status).toBe(400);

    // What the earlier layer parsed is judged (and handed on) like the body itself.
    const parsedEarlier = post("/mcp", call("write_note"), bearer(reader));
    const parsed = await parsedEarlier.json();
    expect((await auth.handle(parsedEarlier, handler, { parsedBody: parsed }))?.status).toBe(403);
    const allowed = post("/mcp", call("write_note"), bearer(writer));
    const value = await allowed.json();
    expect((await auth.handle(allowed, handler, { parsedBody: value }))?.status).toBe(200);
    expect(seen.map((s) => s.context.parsedBody)).toEqual([value]);
    expect(seen[0]?.context.parsedBody).toBe(value);
  });

  it("reads the body itself when it is still there, whatever an earlier layer claims it parsed", async () => {
    const { seen, handler } = recorder();
    const request = post("/mcp", call("write_note"), bearer(reader));
    const r = (await auth.handle(request, handler, { parsedBody: call("whoami") }))!;
    expect(r.status).toBe(403);
    expect(seen).toEqual([]);
    const body = new Uint8Array([1, 2]);
    expect(await readWebBody(new Request(RESOURCE, { method: "POST", body }), 10, "ignored")).toEqual(body);
  });

  it("leaves the body unread without per-tool scopes (the transport reads it)", async () => {
    const plain = engine({ toolScopes: {} });
    const { seen, handler } = recorder();
    const request = post("/mcp", call("write_note"), bearer(reader));
    expect((await plain.handle(request, handler))?.status).toBe(200);
    expect(seen[0]?.context.parsedBody).toBeUndefined();
    expect(request.bodyUsed).toBe(false);
    expect(await request.json()).toEqual(call("write_note"));
  });

  it.each(["/MCP", "/mcp/", "/mcp//", "//mcp", "/Mcp/sub/path", "/%6dcp", "/mcp%2F", "/mcp%zz"])(
    "gates %s like /mcp",
    async (path) => {
      const { seen, handler } = recorder();
      const r = (await auth.handle(post(path, call("whoami")), handler))!;
      expect(r.status).toBe(401);
      expect(seen).toEqual([]);
    },
  );

  it.each(["/", "/health", "/mcpx", "/api/mcp", "/.well-known/openid-configuration"])(
    "leaves %s to the host (undefined)",
    async (path) => {
      const { seen, handler } = recorder();
      expect(await auth.handle(post(path, call("whoami")), handler)).toBeUndefined();
      expect(seen).toEqual([]);
    },
  );

  it("answers preflight with 204 and CORS, never 401; with cors: false leaves OPTIONS to the host", async () => {
    const preflight = new Request(RESOURCE, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    const r = (await auth.handle(preflight, recorder().handler))!;
    expect(r.status).toBe(204);
    expect(headersOf(r)).toMatchObject({
      ...CORS,
      "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    });
    const noCors = engine({ cors: false });
    expect(await noCors.handle(new Request(RESOURCE, { method: "OPTIONS" }), recorder().handler)).toBeUndefined();
    const ok = (await noCors.handle(post("/mcp", call("whoami"), bearer(reader)), () => new Response("x")))!;
    expect(ok.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers methods the endpoint does not serve with 405 and Allow, before authentication", async () => {
    for (const method of ["PUT", "PATCH"]) {
      const r = (await auth.handle(new Request(RESOURCE, { method }), recorder().handler))!;
      expect(r.status).toBe(405);
      expect(r.headers.get("allow")).toBe("GET, POST, DELETE, OPTIONS");
      expect((await r.json()).error).toBe("method_not_allowed");
    }
  });

  it("serves the metadata routes", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const r = (await auth.handle(new Request(`${BASE_URL}${path}`), recorder().handler))!;
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: [emu.issuerURL],
        bearer_methods_supported: ["header"],
        scopes_supported: ["openid", "notes:write"],
      });
    }
    const as = (await auth.handle(new Request(`${BASE_URL}/.well-known/oauth-authorization-server`), () => {
      throw new Error("not the handler's");
    }))!;
    expect(as.status).toBe(200);
    expect((await as.json()).issuer).toBe(emu.issuerURL);
    const del = (await auth.handle(
      new Request(`${BASE_URL}/.well-known/oauth-protected-resource`, { method: "DELETE" }),
      recorder().handler,
    ))!;
    expect(del.status).toBe(405);
  });
});

describe("auth.protect", () => {
  it("is a fetch handler: metadata, the gate, the MCP handler, and 404 elsewhere", async () => {
    const { seen, handler } = recorder();
    const fetchHandler = auth.protect(handler);
    expect((await fetchHandler(new Request(`${BASE_URL}/.well-known/oauth-protected-resource`))).status).toBe(200);
    expect((await fetchHandler(post("/mcp", call("whoami")))).status).toBe(401);
    expect((await fetchHandler(post("/mcp", call("whoami"), bearer(reader)))).status).toBe(200);
    const missing = await fetchHandler(new Request(`${BASE_URL}/health`));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "not_found", error_description: "Nothing is served at this path" });
    expect(seen).toHaveLength(1);
  });

  it("sends other paths to the fallback, unauthenticated", async () => {
    const fetchHandler = auth.protect(recorder().handler, {
      fallback: (request) => new Response(`fallback ${new URL(request.url).pathname}`),
    });
    const r = await fetchHandler(new Request(`${BASE_URL}/health`));
    expect(await r.text()).toBe("fallback /health");
    expect((await fetchHandler(new Request(`${BASE_URL}/MCP/`, { method: "POST" }))).status).toBe(401);
  });
});
