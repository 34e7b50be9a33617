// The guard, the decorators and the session interceptor on their own: hand-made execution contexts
// around Express-like and Fastify-like requests, a real engine and the Descope emulator.
import { Readable } from "node:stream";
import { createDescopeMcpAuth, type DescopeMcpAuth, type DescopeSession as Session } from "@descope-mcp/core";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import type { ExecutionContext } from "@nestjs/common";
import { ROUTE_ARGS_METADATA } from "@nestjs/common/constants";
import { Reflector } from "@nestjs/core";
import { ExecutionContextHost } from "@nestjs/core/helpers/execution-context-host.js";
import { lastValueFrom, Observable } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attempt, resetSessionContext } from "../../../test/support/session-context.js";
import {
  DESCOPE_MCP_AUTH,
  DescopeMcpAuthGuard,
  DescopeMcpSessionInterceptor,
  DescopeSession,
  getSession,
  InjectDescopeMcpAuth,
  PUBLIC_ROUTE,
  Public,
  REQUIRED_SCOPES,
  RequireScopes,
  sessionOf,
} from "../src/index.js";
import { BASE_URL, RESOURCE, toolCall } from "./helpers.js";

let emu: DescopeEmulator;
let auth: DescopeMcpAuth;
let decisions = 0;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
  auth = createDescopeMcpAuth({
    issuerURL: emu.issuerURL,
    baseURL: BASE_URL,
    toolScopes: { write_note: ["notes:write"] },
    onEvent: () => {
      decisions++;
    },
  });
});
afterAll(() => emu.close());

/** A Node request carrying `body` (a readable stream, as Express hands guards). */
function nodeRequest(options: { method?: string; path?: string; token?: string; body?: string; type?: string }) {
  const { method = "POST", path = "/mcp", token, body = JSON.stringify(toolCall("whoami")), type } = options;
  const headers: Record<string, string> = { "content-type": type ?? "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const stream = Readable.from(method === "POST" ? [Buffer.from(body)] : []);
  return Object.assign(stream, {
    method,
    url: path,
    path,
    headers,
    headersDistinct: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    complete: true,
  }) as unknown as Readable & Record<string, unknown>;
}

/** A Node response that records what is written; `ended` resolves once it is. */
function nodeResponse() {
  let finish: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (finish = resolve));
  return {
    statusCode: 200,
    headers: {} as Record<string, string>,
    body: undefined as string | undefined,
    ended,
    setHeader(name: string, value: string) {
      this.headers[name.toLowerCase()] = value;
    },
    end(body?: string) {
      this.body = body ?? "";
      finish();
    },
  };
}

/** The execution context Nest builds for an HTTP route (its own class). */
function httpContext(req: unknown, res: unknown, handler: () => void = () => undefined, controller = class {}) {
  return new ExecutionContextHost([req, res, () => undefined], controller as never, handler) as ExecutionContext;
}

/**
 * What a guard decision settled with, or "pending". Called once the refusal is written: from then on
 * the decision can never settle, so how many turns of the event loop this waits does not matter.
 */
async function settled(promise: Promise<unknown>, written: Promise<void>): Promise<unknown> {
  await written;
  let state: unknown = "pending";
  promise.then(
    (value) => (state = { value }),
    (error: unknown) => (state = { error }),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return state;
}

const guard = () => new DescopeMcpAuthGuard(auth, new Reflector());

describe("DescopeMcpAuthGuard", () => {
  it("leaves other execution contexts (microservice handlers) alone", async () => {
    const before = decisions;
    const rpc = { getType: () => "rpc" } as unknown as ExecutionContext;
    expect(await guard().canActivate(rpc)).toBe(true);
    expect(decisions).toBe(before);
  });

  it("lets @Public() routes through without a decision, on the handler or the whole controller", async () => {
    class Open {
      @Public()
      health() {}
    }
    @Public()
    class AllOpen {
      any() {}
    }
    const before = decisions;
    const req = nodeRequest({ method: "GET", path: "/health" });
    expect(await guard().canActivate(httpContext(req, nodeResponse(), Open.prototype.health, Open))).toBe(true);
    expect(await guard().canActivate(httpContext(req, nodeResponse(), AllOpen.prototype.any, AllOpen))).toBe(true);
    expect(decisions).toBe(before);
  });

  it("passes a valid token on the MCP path with req.auth, req.user, the session and the body it judged", async () => {
    const req = nodeRequest({ token: await emu.mintToken({ scope: "openid" }) });
    const res = nodeResponse();
    expect(await guard().canActivate(httpContext(req, res))).toBe(true);
    expect(req.body).toEqual(toolCall("whoami"));
    expect((req.auth as { extra: { userId: string } }).extra.userId).toBe("U2EmulatorUser0001");
    expect(req.user).toMatchObject({ sub: "U2EmulatorUser0001", scope: "openid", scopes: ["openid"] });
    expect(Object.isFrozen(req.user)).toBe(true);
    expect(sessionOf(req)?.userId).toBe("U2EmulatorUser0001");
    expect(req[Symbol.for("@rekog/mcp-nest:resource-metadata-url") as never]).toBe(auth.config.resourceMetadataURL);
    expect(res.headers["access-control-expose-headers"]).toContain("WWW-Authenticate");
  });

  it("keeps a req.user something before it set", async () => {
    const req = nodeRequest({ token: await emu.mintToken() });
    req.user = { id: "from-another-guard" };
    await guard().canActivate(httpContext(req, nodeResponse()));
    expect(req.user).toEqual({ id: "from-another-guard" });
  });

  it("writes a refusal verbatim and never settles, so Nest runs no handler and no exception filter", async () => {
    const req = nodeRequest({ token: await emu.mintToken(), body: JSON.stringify(toolCall("write_note")) });
    const res = nodeResponse();
    const decision = guard().canActivate(httpContext(req, res));
    expect(await settled(decision, res.ended)).toBe("pending");
    const expected = await auth.gate({
      method: "POST",
      authorization: (req.headers as Record<string, string>).authorization,
      body: toolCall("write_note"),
    });
    expect(expected.allow).toBe(false);
    if (expected.allow !== false) return;
    expect(res.statusCode).toBe(403);
    expect(res.body).toBe(expected.result.body);
    expect(res.headers["www-authenticate"]).toBe(expected.result.headers["www-authenticate"]);
    expect(req.auth).toBeUndefined();
  });

  it("on Fastify, hijacks the reply, writes to reply.raw and judges what Fastify parsed when nothing else read the body", async () => {
    const raw = nodeRequest({ token: await emu.mintToken() });
    let hijacked = 0;
    const reply = { raw: nodeResponse(), sent: false, hijack: () => hijacked++ };
    const request = { raw, body: toolCall("write_note"), routeOptions: { url: "/mcp" } };
    expect(await settled(guard().canActivate(httpContext(request, reply)), reply.raw.ended)).toBe("pending");
    expect([hijacked, reply.raw.statusCode]).toEqual([1, 403]);

    const allowed = {
      raw: nodeRequest({ token: await emu.mintToken() }),
      body: toolCall("whoami"),
      routeOptions: { url: "/mcp" },
    };
    expect(await guard().canActivate(httpContext(allowed, { raw: nodeResponse(), hijack: () => hijacked++ }))).toBe(
      true,
    );
    expect(hijacked).toBe(1);
    expect(sessionOf(allowed)?.userId).toBe("U2EmulatorUser0001");
    expect(allowed.raw.auth).toBeDefined();
  });

  it("checks other routes with the token and scopes alone: no body is read, no per-tool scope applies", async () => {
    let read = false;
    const body = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    const req = Object.assign(body, {
      method: "POST",
      url: "/notes",
      path: "/notes",
      route: { path: "/notes" },
      headers: { authorization: `Bearer ${await emu.mintToken()}`, "content-type": "multipart/form-data" },
      complete: true,
    });
    expect(await guard().canActivate(httpContext(req, nodeResponse()))).toBe(true);
    expect(read).toBe(false);
    const missing = nodeResponse();
    const noToken = Object.assign(nodeRequest({ method: "GET", path: "/notes" }), { route: { path: "/notes" } });
    expect(await settled(guard().canActivate(httpContext(noToken, missing)), missing.ended)).toBe("pending");
    expect(missing.statusCode).toBe(401);
  });

  it("merges @RequireScopes of the controller and the handler into the route's scopes", async () => {
    @RequireScopes("notes:read")
    class Notes {
      @RequireScopes("notes:admin")
      purge() {}
    }
    const res = nodeResponse();
    const req = nodeRequest({ method: "GET", token: await emu.mintToken({ scope: "notes:read" }) });
    const decision = guard().canActivate(httpContext(req, res, Notes.prototype.purge, Notes));
    expect(await settled(decision, res.ended)).toBe("pending");
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body as string)).toMatchObject({
      required_scopes: ["notes:admin", "notes:read"],
      missing_scopes: ["notes:admin"],
    });
  });
});

describe("decorators", () => {
  it("@RequireScopes and @Public set their metadata on handlers and controllers", () => {
    @RequireScopes("a", "b")
    class C {
      @Public()
      @RequireScopes("c")
      m() {}
    }
    expect(Reflect.getMetadata(REQUIRED_SCOPES, C)).toEqual(["a", "b"]);
    expect(Reflect.getMetadata(REQUIRED_SCOPES, C.prototype.m)).toEqual(["c"]);
    expect(Reflect.getMetadata(PUBLIC_ROUTE, C.prototype.m)).toBe(true);
    expect(new Reflector().getAllAndMerge(REQUIRED_SCOPES, [C.prototype.m, C])).toEqual(["c", "a", "b"]);
  });

  it("@DescopeSession() hands a handler the session or one of its fields, on either platform", async () => {
    class C {
      m(@DescopeSession() _session: unknown, @DescopeSession("userId") _userId: unknown) {}
    }
    const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, C, "m") as Record<
      string,
      { index: number; data: unknown; factory: (data: unknown, ctx: ExecutionContext) => unknown }
    >;
    const [whole, field] = Object.values(args).sort((a, b) => a.index - b.index) as [
      (typeof args)[string],
      (typeof args)[string],
    ];
    const req = nodeRequest({ token: await emu.mintToken() });
    await guard().canActivate(httpContext(req, nodeResponse()));
    const session = sessionOf(req) as Session;
    for (const request of [req, { raw: req }]) {
      const ctx = httpContext(request, nodeResponse());
      expect(whole.factory(whole.data, ctx)).toBe(session);
      expect(field.factory(field.data, ctx)).toBe("U2EmulatorUser0001");
    }
    const anonymous = httpContext(nodeRequest({}), nodeResponse());
    expect(whole.factory(whole.data, anonymous)).toBeUndefined();
    expect(field.factory(field.data, anonymous)).toBeUndefined();
  });

  it("@InjectDescopeMcpAuth() injects the DESCOPE_MCP_AUTH token", () => {
    class Service {
      constructor(@InjectDescopeMcpAuth() readonly engine: DescopeMcpAuth) {}
    }
    expect(Reflect.getMetadata("self:paramtypes", Service)).toEqual([{ index: 0, param: DESCOPE_MCP_AUTH }]);
  });
});

describe("DescopeMcpSessionInterceptor", () => {
  const handler = {
    handle: () =>
      new Observable<string | null>((subscriber) => {
        subscriber.next(attempt(() => getSession()));
        subscriber.complete();
      }),
  };
  const withContext = () => createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, sessionContext: true });

  it("without the sessionContext option, passes the request on untouched (getSession() says how to turn it on)", async () => {
    resetSessionContext();
    const req = nodeRequest({ token: await emu.mintToken({ sub: "U-interceptor" }) });
    await guard().canActivate(httpContext(req, nodeResponse()));
    const run = new DescopeMcpSessionInterceptor(auth).intercept(httpContext(req, nodeResponse()), handler);
    expect(await lastValueFrom(run)).toMatch(/^getSession\(\) without an argument needs the session context/);
  });

  it("with it, runs the rest of the request with the caller's session current", async () => {
    const req = nodeRequest({ token: await emu.mintToken({ sub: "U-interceptor" }) });
    await guard().canActivate(httpContext(req, nodeResponse()));
    const run = new DescopeMcpSessionInterceptor(withContext()).intercept(httpContext(req, nodeResponse()), handler);
    expect(await lastValueFrom(run)).toBe("U-interceptor");
    expect(getSession()).toBeUndefined();
  });

  it("passes requests without a session, and other contexts, untouched", async () => {
    const interceptor = new DescopeMcpSessionInterceptor(withContext());
    expect(await lastValueFrom(interceptor.intercept(httpContext(nodeRequest({}), nodeResponse()), handler))).toBe(
      "none",
    );
    const rpc = { getType: () => "rpc" } as unknown as ExecutionContext;
    expect(await lastValueFrom(interceptor.intercept(rpc, handler))).toBe("none");
  });
});
