// The provider inside real xmcp 1.1 builds of test/fixture (an app whose endpoint, /tools/mcp, is
// baked at build time): the HTTP target run with Node, the Cloudflare target run in workerd, both
// against the Descope emulator.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const PKG = join(here, "..");
const ENDPOINT = "/tools/mcp";
const ACCEPT = "application/json, text/event-stream";

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let app: string;
let emu: DescopeEmulator;

function xmcpBuild(...args: string[]) {
  const r = spawnSync(process.execPath, [join(PKG, "node_modules/xmcp/dist/cli.js"), "build", ...args], {
    cwd: app,
    env: { ...process.env, XMCP_TELEMETRY_DISABLED: "true" },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`xmcp build ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
}

beforeAll(async () => {
  // A copy beside the fixture (same depth, so its imports of ../dist resolve), one per run.
  app = mkdtempSync(join(here, ".build-"));
  cpSync(join(here, "fixture"), app, { recursive: true });
  emu = await startDescopeEmulator({
    connections: {
      "google-calendar": { status: "connected", accessToken: "ya29.secret", scopes: ["calendar.readonly"] },
    },
  });
  xmcpBuild();
  xmcpBuild("--cf");
  await build({
    entryPoints: [join(app, "src/worker.ts")],
    outfile: join(app, "dist/worker.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "import"],
    mainFields: ["module", "main"],
    external: ["async_hooks", "node:*"],
    logLevel: "error",
  });
}, 180_000);

afterAll(async () => {
  await emu?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

interface Target {
  baseURL: string;
  post(body: unknown, headers?: Record<string, string>, path?: string): Promise<Response>;
  get(path: string): Promise<Response>;
  output(): string;
}

const call = (name: string, args: Record<string, unknown> = {}, id = 1) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});

/** The tool's text from a JSON or SSE answer. */
async function toolText(response: Response): Promise<string> {
  const text = await response.text();
  const data = text.startsWith("{") ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? "");
  const message = JSON.parse(data) as { result?: { content?: Array<{ text?: string }> } };
  return message.result?.content?.[0]?.text ?? "";
}

/** The same checks on both targets. */
function behaves(name: string, start: () => Promise<{ target: Target; stop: () => Promise<void> }>) {
  describe(name, () => {
    let t: Target;
    let stop: () => Promise<void>;
    const token = (claims: Record<string, unknown> = {}) =>
      emu.mintToken({ aud: `${t.baseURL}${ENDPOINT}`, scope: "openid outbound.token.fetch", ...claims });

    beforeAll(async () => {
      ({ target: t, stop } = await start());
    }, 120_000);
    afterAll(() => stop?.());

    it("serves the metadata for the endpoint xmcp was built with (read from the build, never a fixed prefix)", async () => {
      const prm = await t.get(`/.well-known/oauth-protected-resource${ENDPOINT}`);
      expect(prm.status).toBe(200);
      expect(await prm.json()).toMatchObject({
        resource: `${t.baseURL}${ENDPOINT}`,
        authorization_servers: [emu.issuerURL],
      });
      const as = await t.get("/.well-known/oauth-authorization-server");
      expect((await as.json()).issuer).toBe(emu.issuerURL);
    });

    it("answers @xmcp-dev/descope's error values with the core's status and challenge", async () => {
      const prm = `${t.baseURL}/.well-known/oauth-protected-resource${ENDPOINT}`;
      const none = await t.post(call("probe", { delayMs: 0 }));
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toBe(`Bearer scope="openid", resource_metadata="${prm}"`);
      expect((await none.json()).error).toBe("unauthorized");

      const expired = await t.post(call("probe", { delayMs: 0 }), {
        authorization: `Bearer ${await emu.tokens.expired({ aud: `${t.baseURL}${ENDPOINT}` })}`,
      });
      expect(expired.status).toBe(401);
      expect(expired.headers.get("www-authenticate")).toMatch(
        /^Bearer error="invalid_token", error_description="[^"]*expired/,
      );
      expect((await expired.json()).error).toBe("token_expired");

      const wrongAudience = await t.post(call("probe", { delayMs: 0 }), {
        authorization: `Bearer ${await emu.mintToken({ aud: "https://elsewhere.example/mcp" })}`,
      });
      expect(wrongAudience.status).toBe(401);
      expect((await wrongAudience.json()).error).toBe("invalid_token");
    });

    it("enforces per-tool scopes before dispatch (403) and lets the call through with the scope", async () => {
      const refused = await t.post(call("write_note", { text: "x" }), { authorization: `Bearer ${await token()}` });
      expect(refused.status).toBe(403);
      expect((await refused.json()).error).toBe("insufficient_scope");
      const ok = await t.post(call("write_note", { text: "four" }), {
        authorization: `Bearer ${await token({ scope: "openid notes:write" })}`,
      });
      expect(ok.status).toBe(200);
      expect(JSON.parse(await toolText(ok))).toEqual({ saved: true, length: 4 });
    });

    it("keeps each request's session through awaits, with interleaved concurrent callers", async () => {
      const users = Array.from({ length: 8 }, (_, i) => `U2ConcurrentUser${String(i).padStart(4, "0")}`);
      const tokens = await Promise.all(users.map((sub) => token({ sub, email: `${sub}@example.com` })));
      // Later callers finish first: every tool reads its session, waits while others run, reads again.
      const answers = await Promise.all(
        tokens.map(async (tk, i) =>
          JSON.parse(
            await toolText(
              await t.post(call("probe", { delayMs: (users.length - i) * 40 }, i + 1), {
                authorization: `Bearer ${tk}`,
              }),
            ),
          ),
        ),
      );
      answers.forEach((a, i) => {
        expect(a).toMatchObject({ first: users[i], second: users[i], authInfoUser: users[i] });
      });
    });

    it("gives tools the session in @xmcp-dev/descope's shape (permissions = RBAC ∪ scopes) and req.auth as extra.authInfo", async () => {
      const iat = Math.floor(Date.now() / 1000) - 60;
      const tk = await token({ permissions: ["notes.read"], azp: "client-7", iat });
      const a = JSON.parse(
        await toolText(await t.post(call("probe", { delayMs: 0 }), { authorization: `Bearer ${tk}` })),
      );
      expect(a).toMatchObject({
        email: "ada@example.com",
        permissions: ["notes.read", "openid", "outbound.token.fetch"],
        rbac: ["notes.read"],
        scopes: ["openid", "outbound.token.fetch"],
        authInfoClient: "client-7",
        issuedAt: new Date(iat * 1000).toISOString(),
        frozen: true,
      });
    });

    it("fetchConnectionToken and getUser reach Descope with the caller's token and the management key", async () => {
      const tk = await token();
      const a = JSON.parse(await toolText(await t.post(call("connection"), { authorization: `Bearer ${tk}` })));
      expect(a).toEqual({
        tokenLength: "ya29.secret".length,
        user: expect.objectContaining({ userId: "U2EmulatorUser0001" }),
      });
      const outbound = emu.requests.filter((r) => r.path === "/v1/mgmt/outbound/app/user/token").at(-1);
      expect(outbound?.headers.authorization).toBe(`Bearer ${emu.projectId}:${tk}`);
    });

    it("serves nothing on other paths (the default /mcp is not this app's endpoint)", async () => {
      const r = await t.post(call("probe", { delayMs: 0 }), {}, "/mcp");
      expect(r.status).toBe(404);
    });
  });
}

async function waitFor(child: ChildProcess, pattern: RegExp, output: () => string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready:\n${output()}`)), 60_000);
    const check = () => {
      if (pattern.test(output())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => reject(new Error(`exited ${code}:\n${output()}`)));
  });
}

behaves("HTTP target (xmcp build, Node)", async () => {
  const port = String(await freePort());
  const baseURL = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(app, "dist/http.js")], {
    cwd: app,
    env: {
      ...process.env,
      PORT: port,
      BASE_URL: baseURL,
      DESCOPE_ISSUER_URL: emu.issuerURL,
      DESCOPE_MANAGEMENT_KEY: emu.managementKey,
      XMCP_TELEMETRY_DISABLED: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  await waitFor(child, /MCP Server running/, () => out);
  const target: Target = {
    baseURL,
    output: () => out,
    post: (body, headers = {}, path = ENDPOINT) =>
      fetch(`${baseURL}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: ACCEPT, ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    get: (path) => fetch(`${baseURL}${path}`),
  };
  return {
    target,
    stop: async () => {
      child.kill("SIGKILL");
    },
  };
});

behaves("Cloudflare target (xmcp build --cf behind descopeWorker, workerd)", async () => {
  const baseURL = "http://127.0.0.1:8787";
  const mf = new Miniflare({
    scriptPath: join(app, "dist/worker.js"),
    modules: true,
    compatibilityDate: "2026-04-26",
    compatibilityFlags: ["nodejs_compat"],
    bindings: {
      DESCOPE_ISSUER_URL: emu.issuerURL,
      BASE_URL: baseURL,
      DESCOPE_MANAGEMENT_KEY: emu.managementKey,
      MCP_PATH: ENDPOINT,
    },
    cf: false,
  });
  await mf.ready;
  const dispatch = (path: string, init?: RequestInit) =>
    mf.dispatchFetch(`${baseURL}${path}`, init as never) as unknown as Promise<Response>;
  const target: Target = {
    baseURL,
    output: () => "",
    post: (body, headers = {}, path = ENDPOINT) =>
      dispatch(path, {
        method: "POST",
        headers: { "content-type": "application/json", accept: ACCEPT, ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    get: (path) => dispatch(path),
  };
  return { target, stop: () => mf.dispose() };
});

describe("xmcp's own body parser (HTTP target)", () => {
  // xmcp parses JSON before any middleware; what it refuses reaches the provider's `router` as an
  // error, and the gate decides: authentication first, then the body the parser could not read.
  let baseURL: string;
  let child: ChildProcess;
  let out = "";
  beforeAll(async () => {
    const port = String(await freePort());
    baseURL = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [join(app, "dist/http.js")], {
      cwd: app,
      env: { ...process.env, PORT: port, BASE_URL: baseURL, DESCOPE_ISSUER_URL: emu.issuerURL },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (c) => (out += c));
    child.stderr?.on("data", (c) => (out += c));
    await waitFor(child, /MCP Server running/, () => out);
  }, 120_000);
  afterAll(() => {
    child?.kill("SIGKILL");
  });

  const send = async (body: string, headers: Record<string, string>) => {
    const r = await fetch(`${baseURL}${ENDPOINT}`, { method: "POST", headers: { accept: ACCEPT, ...headers }, body });
    return { status: r.status, type: r.headers.get("content-type"), json: await r.json().catch(() => undefined) };
  };
  const bearer = async () => ({
    authorization: `Bearer ${await emu.mintToken({ aud: `${baseURL}${ENDPOINT}`, scope: "openid" })}`,
  });

  it.each([
    ["invalid JSON", '{"jsonrpc":', "application/json", 400, /not valid JSON/],
    [
      "a JSON string (xmcp's strict parser refuses it)",
      '"write_note"',
      "application/json",
      400,
      /not a JSON-RPC message/,
    ],
    ["a charset other than UTF-8", "{}", "application/json; charset=latin1", 400, /UTF-8/],
    ["a Content-Encoding xmcp cannot decode", "{}", "application/json", 400, /Content-Encoding/],
    ["Content-Length: 0 (xmcp's parser makes it {})", "", "application/json", 400, /empty/],
    [
      "a wrong Content-Type (xmcp leaves req.body = {})",
      JSON.stringify(call("write_note", { text: "x" })),
      "text/plain",
      400,
      /Content-Type/,
    ],
  ])(
    "%s: 401 without a token, the core's JSON 400 with one (never xmcp's HTML page)",
    async (_n, body, type, status, description) => {
      const headers: Record<string, string> = { "content-type": type };
      if (_n.startsWith("a Content-Encoding")) headers["content-encoding"] = "br";
      const anonymous = await send(body, headers);
      expect(anonymous.status).toBe(401);
      expect(anonymous.json?.error).toBe("unauthorized");
      const authenticated = await send(body, { ...headers, ...(await bearer()) });
      expect(authenticated.status).toBe(status);
      expect(authenticated.type).toMatch(/^application\/json/);
      expect(authenticated.json?.error).toBe("invalid_request");
      expect(authenticated.json?.error_description).toMatch(description);
      expect(out).not.toMatch(/TOOL write_note ran/);
    },
  );

  it("a body over xmcp's 10 MiB limit: 413 from the gate", async () => {
    const big = JSON.stringify(call("write_note", { text: "x".repeat(11 * 1024 * 1024) }));
    const r = await send(big, { "content-type": "application/json", ...(await bearer()) });
    expect(r.status).toBe(413);
    expect(r.json?.error).toBe("invalid_request");
  });
});

describe("xmcp's Cloudflare worker without descopeWorker", () => {
  it("refuses every MCP request (500, details only in the log): xmcp gives middleware nothing but the endpoint", async () => {
    const mf = new Miniflare({
      scriptPath: join(app, "worker.js"),
      modules: true,
      compatibilityDate: "2026-04-26",
      compatibilityFlags: ["nodejs_compat"],
      bindings: { DESCOPE_ISSUER_URL: emu.issuerURL, BASE_URL: "http://127.0.0.1:8787" },
      cf: false,
    });
    try {
      const r = (await mf.dispatchFetch(`http://127.0.0.1:8787${ENDPOINT}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: ACCEPT,
          authorization: `Bearer ${await emu.mintToken({ aud: `http://127.0.0.1:8787${ENDPOINT}` })}`,
        },
        body: JSON.stringify(call("probe", { delayMs: 0 })),
      })) as unknown as Response;
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({
        error: "server_error",
        error_description: "Authorization is misconfigured on this server",
      });
    } finally {
      await mf.dispose();
    }
  }, 60_000);
});
