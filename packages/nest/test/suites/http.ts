// The module and the guard over real HTTP, on Express and Fastify, against the Descope emulator.
// Every refusal is compared byte for byte with the core's own answer for the same request.
import {
  type AuthErrorResult,
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  type DescopeMcpAuthOptions,
  type GateInput,
} from "@descope-mcp/core";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import {
  All,
  type ArgumentsHost,
  Body,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  HttpException,
  Post,
  Req,
  Res,
  UseGuards,
} from "@nestjs/common";
import { APP_GUARD } from "@nestjs/core";
import type { NestExpressApplication } from "@nestjs/platform-express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attempt } from "../../../../test/support/session-context.js";
import {
  DescopeMcpAuthGuard,
  DescopeMcpAuthModule,
  DescopeSession,
  getSession,
  nodeHttp,
  Public,
  RequireScopes,
} from "../../src/index.js";
import {
  BASE_URL,
  MCP_ACCEPT,
  PLATFORMS,
  type Platform,
  postMcp,
  RESOURCE,
  type RunningApp,
  rawRequest,
  socketExchange,
  startNest,
  toolCall,
} from "../helpers.js";

const USER = "U2EmulatorUser0001";
const REKOG_KEY = Symbol.for("@rekog/mcp-nest:resource-metadata-url");

/** What every MCP handler below saw, in order: the path, the body it was handed and the caller. */
const seen: Array<{ path: string; body: unknown; user?: string }> = [];
const seenFor = (path: string) => seen.filter((s) => s.path === path);

/** Answers like an MCP endpoint would, reporting what it was handed: body, auth, session, user. */
function answer(request: unknown, response: unknown, path: string) {
  const { req, res, body } = nodeHttp(request, response);
  const raw = req as typeof req & { user?: { sub?: string; scope?: string; roles?: unknown }; [REKOG_KEY]?: string };
  seen.push({ path, body, user: raw.auth?.extra?.userId as string | undefined });
  res.statusCode = 200;
  res.setHeader("content-type", "application/json");
  res.end(
    JSON.stringify({
      method: req.method,
      body: body ?? null,
      authUser: raw.auth?.extra?.userId ?? null,
      alsUser: attempt(() => getSession()),
      user: raw.user ?? null,
      resourceMetadata: raw[REKOG_KEY] ?? null,
    }),
  );
}

@Controller()
class McpController {
  @All("mcp")
  mcp(@Req() req: unknown, @Res() res: unknown) {
    answer(req, res, "/mcp");
  }
}

@Controller("mcp")
@RequireScopes("mcp:use")
class ScopedMcpController {
  @RequireScopes("mcp:admin")
  @Post("admin")
  admin(@Req() req: unknown, @Res() res: unknown) {
    answer(req, res, "/mcp/admin");
  }
}

@Controller()
class RestController {
  @Get("me")
  me(@DescopeSession() session: DescopeSession, @DescopeSession("userId") userId: string) {
    return { userId, scopes: session.scopes, alsUser: attempt(() => getSession()) };
  }

  @RequireScopes("admin:read")
  @Get("admin")
  admin() {
    return { admin: true };
  }

  @Post("echo")
  echo(@Body() body: unknown) {
    return { body: body ?? null };
  }

  @Public()
  @Get("health")
  health(@DescopeSession() session: DescopeSession | undefined) {
    return { status: "ok", session: session ?? null };
  }

  @Public()
  @Get("boom")
  boom() {
    throw new HttpException("the app's own error", 418);
  }
}

/** A user's catch-all filter, registered with `app.useGlobalFilters()` (the strongest kind). */
@Catch()
class CatchEverything implements ExceptionFilter {
  static calls = 0;
  catch(_error: unknown, host: ArgumentsHost) {
    CatchEverything.calls++;
    const res = host.switchToHttp().getResponse<{
      status?: (n: number) => { json: (b: unknown) => void };
      code?: (n: number) => { send: (b: unknown) => void };
    }>();
    const body = { filtered: true };
    if (res.code) res.code(599).send(body);
    else res.status?.(599).json(body);
  }
}

/** Per-controller mode: only this controller is guarded. */
@Controller()
@UseGuards(DescopeMcpAuthGuard)
class GuardedMcpController {
  @All("mcp")
  mcp(@Req() req: unknown, @Res() res: unknown) {
    answer(req, res, "/mcp (per controller)");
  }
}

@Controller()
class OpenController {
  @Get("open")
  open() {
    return { open: true };
  }
}

/** Status, the headers the core set, and the exact bytes of its body. */
async function expectVerbatim(response: Response, expected: AuthErrorResult) {
  expect(response.status).toBe(expected.status);
  for (const [name, value] of Object.entries(expected.headers)) expect(response.headers.get(name)).toBe(value);
  expect(await response.text()).toBe(expected.body);
}

export function httpSuite(nest: string): void {
  let emu: DescopeEmulator;
  let options: DescopeMcpAuthOptions;
  /** A second engine with the same options: what the core itself answers, for comparison. */
  let core: DescopeMcpAuth;
  const refusal = async (input: Omit<GateInput, "authorization"> & { authorization?: string }) => {
    const outcome = await core.gate({ authorization: undefined, ...input });
    if (outcome.allow !== false) throw new Error("the core lets this through");
    return outcome.result;
  };
  const token = (claims: Record<string, unknown> = {}) => emu.mintToken({ aud: RESOURCE, ...claims });

  beforeAll(async () => {
    emu = await startDescopeEmulator({ audience: RESOURCE });
    options = {
      issuerURL: emu.issuerURL,
      baseURL: BASE_URL,
      toolScopes: { write_note: ["notes:write"] },
      resourceName: "nest test",
      // getSession() in handlers below the guard (alsUser): the module's session interceptor.
      sessionContext: true,
    };
    core = createDescopeMcpAuth(options);
  });
  afterAll(() => emu.close());

  describe.each(PLATFORMS)(`${nest} on %s, guard registered globally (APP_GUARD)`, (platform: Platform) => {
    let server: RunningApp;
    let url: string;
    beforeAll(async () => {
      server = await startNest(
        platform,
        {
          imports: [DescopeMcpAuthModule.forRoot(options)],
          controllers: [McpController, ScopedMcpController, RestController],
          providers: [{ provide: APP_GUARD, useClass: DescopeMcpAuthGuard }],
        },
        { setup: (app) => app.useGlobalFilters(new CatchEverything()) },
      );
      url = server.url;
    });
    afterAll(() => server?.close());

    it("serves the protected resource metadata (path-aware and root) and forwards Descope's", async () => {
      for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
        const r = await fetch(`${url}${path}`);
        expect(r.status).toBe(200);
        expect(r.headers.get("content-type")).toBe("application/json");
        expect(r.headers.get("access-control-allow-origin")).toBe("*");
        expect(await r.json()).toEqual(core.protectedResourceMetadata());
        const head = await fetch(`${url}${path}`, { method: "HEAD" });
        expect([head.status, await head.text()]).toEqual([200, ""]);
        const preflight = await rawRequest(`${url}${path}`, {
          method: "OPTIONS",
          headers: ["origin", "https://app.example", "access-control-request-method", "GET"],
        });
        expect(preflight.status).toBe(204);
        for (const method of ["POST", "DELETE", "TRACE"]) {
          const refused = await rawRequest(`${url}${path}`, { method });
          expect(refused.status).toBe(405);
          expect(refused.headers.allow).toEqual(["GET, HEAD, OPTIONS"]);
          expect(JSON.parse(refused.body).error).toBe("method_not_allowed");
        }
      }
      const as = await fetch(`${url}/.well-known/oauth-authorization-server`);
      expect(as.status).toBe(200);
      expect((await as.json()).issuer).toBe(emu.issuerURL);
    });

    it("answers a request without a token with the core's exact 401, and runs no handler", async () => {
      const before = seen.length;
      const r = await postMcp(`${url}/mcp`, toolCall("whoami"));
      await expectVerbatim(r, await refusal({ method: "POST", url: "/mcp" }));
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(r.headers.get("www-authenticate")).toBe(
        `Bearer scope="openid", resource_metadata="${BASE_URL}/.well-known/oauth-protected-resource/mcp"`,
      );
      expect(seen.length).toBe(before);
    });

    it("answers bad tokens, query tokens, other methods and preflights exactly as the core does", async () => {
      const [header, payload, signature] = (await token()).split(".") as [string, string, string];
      const flipped = signature[10] === "A" ? "B" : "A";
      const forged = `${header}.${payload}.${signature.slice(0, 10)}${flipped}${signature.slice(11)}`;
      const bad = await postMcp(`${url}/mcp`, toolCall("whoami"), "not-a-jwt");
      await expectVerbatim(bad, await refusal({ method: "POST", authorization: "Bearer not-a-jwt" }));
      const tampered = await postMcp(`${url}/mcp`, toolCall("whoami"), forged);
      expect(tampered.status).toBe(401);
      expect(tampered.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
      const valid = await token();
      const query = await postMcp(`${url}/mcp?access_token=${valid}`, toolCall("whoami"));
      await expectVerbatim(query, await refusal({ method: "POST", url: `/mcp?access_token=${valid}` }));
      for (const method of ["PUT", "PATCH", "TRACE"]) {
        const r = await rawRequest(`${url}/mcp`, { method, headers: ["authorization", `Bearer ${valid}`] });
        expect(r.status).toBe(405);
        expect(r.headers.allow).toEqual(["GET, POST, DELETE, OPTIONS"]);
      }
      const preflight = await rawRequest(`${url}/mcp`, {
        method: "OPTIONS",
        headers: ["origin", "https://app.example", "access-control-request-method", "POST"],
      });
      const expected = await refusal({ method: "OPTIONS" });
      expect(preflight.status).toBe(204);
      for (const [name, value] of Object.entries(expected.headers)) expect(preflight.headers[name]).toEqual([value]);
    });

    it("lets a valid token through with req.auth, req.user, the session and the resource-metadata key", async () => {
      const r = await postMcp(`${url}/mcp`, toolCall("whoami"), await token({ scope: "openid", roles: ["editor"] }));
      expect(r.status).toBe(200);
      expect(r.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
      expect(await r.json()).toEqual({
        method: "POST",
        body: toolCall("whoami"),
        authUser: USER,
        alsUser: USER,
        user: expect.objectContaining({
          sub: USER,
          userId: USER,
          scope: "openid",
          scopes: ["openid"],
          roles: ["editor"],
        }),
        resourceMetadata: `${BASE_URL}/.well-known/oauth-protected-resource/mcp`,
      });
    });

    it("refuses a tool call lacking the tool's scope with 403 before the handler runs, also inside a batch", async () => {
      const before = seenFor("/mcp").length;
      const without = await token({ scope: "openid" });
      const single = await postMcp(`${url}/mcp`, toolCall("write_note"), without);
      await expectVerbatim(
        single,
        await refusal({ method: "POST", authorization: `Bearer ${without}`, body: toolCall("write_note") }),
      );
      const batch = await postMcp(`${url}/mcp`, [toolCall("whoami", 1), toolCall("write_note", 2)], without);
      expect(batch.status).toBe(403);
      expect(seenFor("/mcp").length).toBe(before);
      const ok = await postMcp(`${url}/mcp`, toolCall("write_note"), await token({ scope: "notes:write" }));
      expect(ok.status).toBe(200);
      expect((await ok.json()).body).toEqual(toolCall("write_note"));
    });

    it("reads the MCP body itself, after the token: the core's rules and limit, not the framework's parser", async () => {
      const before = seenFor("/mcp").length;
      const t = await token({ scope: "openid" });
      const authorization = `Bearer ${t}`;
      // Unauthenticated garbage: the 401 comes first, whatever the body.
      await expectVerbatim(await postMcp(`${url}/mcp`, '{"jsonrpc":'), await refusal({ method: "POST" }));
      const cases: Array<[string, string, Record<string, string>]> = [
        ["malformed JSON", '{"jsonrpc":', {}],
        ["an empty body", "", {}],
        ["text/plain", JSON.stringify(toolCall("write_note")), { "content-type": "text/plain" }],
        ["a +json type", JSON.stringify(toolCall("write_note")), { "content-type": "application/json-patch+json" }],
        ["latin1", JSON.stringify(toolCall("write_note")), { "content-type": "application/json; charset=latin1" }],
        ["Content-Encoding", JSON.stringify(toolCall("write_note")), { "content-encoding": "gzip" }],
        ["JSON null", "null", {}],
      ];
      for (const [, body, headers] of cases) {
        const r = await postMcp(`${url}/mcp`, body, t, headers);
        await expectVerbatim(
          r,
          await refusal({
            method: "POST",
            authorization,
            body,
            bodyHeaders: {
              contentType: headers["content-type"] ?? "application/json",
              contentEncoding: headers["content-encoding"],
            },
          }),
        );
      }
      // Over the body parsers' own limits (Express 100 kB, Fastify 1 MiB) but within the core's 4 MiB:
      // judged whole, and handed on exactly.
      const calls = Array.from({ length: 15_000 }, (_, i) => toolCall("whoami", i + 1));
      const large = await postMcp(`${url}/mcp`, calls, t);
      expect(large.status).toBe(200);
      expect((await large.json()).body).toEqual(calls);
      const hidden = await postMcp(`${url}/mcp`, [...calls, toolCall("write_note", 0)], t);
      expect(hidden.status).toBe(403);
      // Announced over the limit: refused from the header, before a byte of the body is read.
      const tooLarge = await socketExchange(url, [
        "POST /mcp HTTP/1.1",
        `Host: ${new URL(url).host}`,
        authorization && `Authorization: ${authorization}`,
        "Content-Type: application/json",
        `Content-Length: ${4 * 1024 * 1024 + 1}`,
      ]);
      expect(tooLarge.status).toBe(413);
      expect(JSON.parse(tooLarge.body).error).toBe("invalid_request");
      expect(seenFor("/mcp").length).toBe(before + 1);
    });

    it("merges @RequireScopes (class and handler) with the per-tool scopes into one 403", async () => {
      const before = seenFor("/mcp/admin").length;
      const t = await token({ scope: "openid" });
      const r = await postMcp(`${url}/mcp/admin`, toolCall("write_note"), t);
      expect(r.status).toBe(403);
      expect(r.headers.get("www-authenticate")).toBe(
        `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: mcp:admin mcp:use notes:write", scope="mcp:admin mcp:use notes:write openid", resource_metadata="${BASE_URL}/.well-known/oauth-protected-resource/mcp"`,
      );
      const partly = await postMcp(`${url}/mcp/admin`, toolCall("whoami"), await token({ scope: "mcp:use" }));
      expect(partly.status).toBe(403);
      expect((await partly.json()).missing_scopes).toEqual(["mcp:admin"]);
      const enough = await token({ scope: "mcp:* notes:write" });
      const ok = await postMcp(`${url}/mcp/admin`, toolCall("write_note"), enough);
      expect(ok.status).toBe(200);
      expect(seenFor("/mcp/admin")).toHaveLength(before + 1);
    });

    it("guards the app's other routes with a bearer check (no body read), and lets @Public() routes through", async () => {
      const t = await token({ scope: "openid notes:read" });
      const me = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${t}` } });
      expect(me.status).toBe(200);
      expect(await me.json()).toEqual({ userId: USER, scopes: ["openid", "notes:read"], alsUser: USER });
      await expectVerbatim(await fetch(`${url}/me`), await refusal({ method: "GET" }));
      const admin = await fetch(`${url}/admin`, { headers: { authorization: `Bearer ${t}` } });
      expect(admin.status).toBe(403);
      expect(admin.headers.get("www-authenticate")).toContain('scope="admin:read notes:read openid"');
      const adminOk = await fetch(`${url}/admin`, {
        headers: { authorization: `Bearer ${await token({ scope: "admin:*" })}` },
      });
      expect(await adminOk.json()).toEqual({ admin: true });
      // Not the MCP endpoint: per-tool scopes do not apply and the framework parses the body as usual.
      const echo = await fetch(`${url}/echo`, {
        method: "POST",
        headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
        body: JSON.stringify(toolCall("write_note")),
      });
      expect([echo.status, await echo.json()]).toEqual([201, { body: toolCall("write_note") }]);
      const health = await fetch(`${url}/health`);
      expect([health.status, await health.json()]).toEqual([200, { status: "ok", session: null }]);
    });

    it("answers past a user's catch-all global filter, which still handles the app's own errors", async () => {
      const calls = CatchEverything.calls;
      for (const r of [
        await postMcp(`${url}/mcp`, toolCall("whoami")),
        await postMcp(`${url}/mcp`, toolCall("write_note"), await token()),
        await fetch(`${url}/me`),
        await fetch(`${url}/mcp`, { method: "PUT" }),
      ]) {
        expect([401, 403, 405]).toContain(r.status);
        expect((await r.json()).filtered).toBeUndefined();
      }
      expect(CatchEverything.calls).toBe(calls);
      const own = await fetch(`${url}/boom`);
      expect([own.status, await own.json()]).toEqual([599, { filtered: true }]);
      expect(CatchEverything.calls).toBe(calls + 1);
    });

    // Fastify only: Nest's e2e tests on Fastify drive the app through inject() instead of a socket.
    if (platform === "fastify")
      it("works with Fastify's inject(), as Nest's e2e tests use it", async () => {
        const fastify = server.app.getHttpAdapter().getInstance() as {
          inject(o: object): Promise<{ statusCode: number; json(): { body: unknown; error?: string } }>;
        };
        const headers = {
          authorization: `Bearer ${await token({ scope: "openid" })}`,
          "content-type": "application/json",
        };
        const ok = await fastify.inject({ method: "POST", url: "/mcp", headers, payload: toolCall("whoami") });
        expect([ok.statusCode, ok.json().body]).toEqual([200, toolCall("whoami")]);
        const refused = await fastify.inject({ method: "POST", url: "/mcp", headers, payload: toolCall("write_note") });
        expect([refused.statusCode, refused.json().error]).toEqual([403, "insufficient_scope"]);
      });

    it("isolates concurrent callers: each handler sees its own session", async () => {
      const users = Array.from({ length: 30 }, (_, i) => `U-nest-${i}`);
      const answers = await Promise.all(
        users.map(async (sub) => (await postMcp(`${url}/mcp`, toolCall("whoami"), await token({ sub }))).json()),
      );
      expect(answers.map((a) => [a.authUser, a.alsUser])).toEqual(users.map((u) => [u, u]));
    });
  });

  describe.each(PLATFORMS)(`${nest} on %s, guard on one controller, global prefix, no body parser`, (platform) => {
    let server: RunningApp;
    let prefixed: RunningApp;
    beforeAll(async () => {
      server = await startNest(platform, {
        imports: [DescopeMcpAuthModule.forRoot(options)],
        controllers: [GuardedMcpController, OpenController],
      });
      prefixed = await startNest(
        platform,
        {
          imports: [DescopeMcpAuthModule.forRoot({ ...options, mcpPath: "/api/mcp" })],
          controllers: [McpController],
          providers: [{ provide: APP_GUARD, useClass: DescopeMcpAuthGuard }],
        },
        { setup: (app) => app.setGlobalPrefix("api"), nest: { bodyParser: false } },
      );
    });
    afterAll(async () => {
      await server?.close();
      await prefixed?.close();
    });

    it("guards the controller it is put on, and leaves the others alone", async () => {
      expect((await postMcp(`${server.url}/mcp`, toolCall("whoami"))).status).toBe(401);
      const t = await token({ scope: "openid" });
      expect((await postMcp(`${server.url}/mcp`, toolCall("write_note"), t)).status).toBe(403);
      const ok = await postMcp(`${server.url}/mcp`, toolCall("whoami"), t);
      expect((await ok.json()).alsUser).toBe(USER);
      expect(await (await fetch(`${server.url}/open`)).json()).toEqual({ open: true });
    });

    it("serves the metadata at the origin root, outside the global prefix", async () => {
      const prm = await fetch(`${prefixed.url}/.well-known/oauth-protected-resource/api/mcp`);
      expect(await prm.json()).toMatchObject({ resource: `${BASE_URL}/api/mcp` });
      expect((await fetch(`${prefixed.url}/api/.well-known/oauth-protected-resource/api/mcp`)).status).toBe(404);
      const r = await postMcp(`${prefixed.url}/api/mcp`, toolCall("whoami"));
      expect(r.headers.get("www-authenticate")).toBe(
        `Bearer scope="openid", resource_metadata="${BASE_URL}/.well-known/oauth-protected-resource/api/mcp"`,
      );
      const t = await emu.mintToken({ aud: `${BASE_URL}/api/mcp`, scope: "openid" });
      expect((await postMcp(`${prefixed.url}/api/mcp`, toolCall("write_note"), t)).status).toBe(403);
      const ok = await postMcp(`${prefixed.url}/api/mcp`, toolCall("whoami"), t);
      expect((await ok.json()).body).toEqual(toolCall("whoami"));
    });
  });

  describe.each(PLATFORMS)(`${nest} on %s, with a 1 KiB limit on the app's JSON bodies`, (platform) => {
    let server: RunningApp;
    beforeAll(async () => {
      server = await startNest(
        platform,
        {
          imports: [DescopeMcpAuthModule.forRoot(options)],
          controllers: [McpController, RestController],
          providers: [{ provide: APP_GUARD, useClass: DescopeMcpAuthGuard }],
        },
        // Nest's documented ways: a body parser of the app's own on Express, the adapter's limit on Fastify.
        platform === "fastify"
          ? { fastify: { bodyLimit: 1024 } }
          : { setup: (app) => (app as NestExpressApplication).useBodyParser("json", { limit: 1024 }) },
      );
    });
    afterAll(() => server?.close());

    it("keeps that parser for the app's other routes, and the core's rules and limit on the MCP path", async () => {
      const t = await token();
      const note = toolCall("whoami", 1, { padding: "x".repeat(2048) });
      const echo = await fetch(`${server.url}/echo`, {
        method: "POST",
        headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
        body: JSON.stringify(note),
      });
      expect(echo.status).toBe(413);
      const small = await fetch(`${server.url}/echo`, {
        method: "POST",
        headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
        body: JSON.stringify(toolCall("whoami")),
      });
      expect(await small.json()).toEqual({ body: toolCall("whoami") });
      const mcp = await postMcp(`${server.url}/mcp`, note, t);
      expect(mcp.status).toBe(200);
      expect((await mcp.json()).body).toEqual(note);
    });
  });

  describe.each(PLATFORMS)(`${nest} on %s, without per-tool scopes`, (platform) => {
    let server: RunningApp;
    beforeAll(async () => {
      server = await startNest(platform, {
        imports: [DescopeMcpAuthModule.forRoot({ issuerURL: emu.issuerURL, baseURL: BASE_URL })],
        controllers: [McpController],
        providers: [{ provide: APP_GUARD, useClass: DescopeMcpAuthGuard }],
      });
    });
    afterAll(() => server?.close());

    it("needs no body for the decision: the handler gets the body (Fastify's parse, or the stream on Express)", async () => {
      const r = await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: { authorization: `Bearer ${await token()}`, "content-type": "application/json", accept: MCP_ACCEPT },
        body: JSON.stringify(toolCall("write_note")),
      });
      expect(r.status).toBe(200);
      const seenBody = (await r.json()).body;
      // Express: the parsers skip the MCP path and nothing needed the body, so the transport reads it.
      expect(seenBody).toEqual(platform === "fastify" ? toolCall("write_note") : null);
    });
  });
}
