// packages/testing/README.md's examples, run as written: each block marked `<!-- readme-test: NAME -->` is
// transpiled (TypeScript → JavaScript, nothing else changes), its imports are bound to the real packages,
// and it runs against the Express example protected by descope-mcp, whose issuer is the emulator. The only
// substitution: the README's placeholder server URL becomes the running example's.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as core from "@descope-mcp/core";
import * as testing from "@descope-mcp/testing";
import * as v2 from "@modelcontextprotocol/client";
import * as v1Auth from "@modelcontextprotocol/sdk/client/auth.js";
import * as v1Client from "@modelcontextprotocol/sdk/client/index.js";
import * as v1Transport from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample } from "../../e2e/servers.mjs";

const README = readFileSync(new URL("../../packages/testing/README.md", import.meta.url), "utf8");
const PLACEHOLDER = "http://127.0.0.1:3000/mcp";
const MODULES: Record<string, unknown> = {
  "@descope-mcp/core": core,
  "@descope-mcp/testing": testing,
  "@modelcontextprotocol/client": v2,
  "@modelcontextprotocol/sdk/client/auth.js": v1Auth,
  "@modelcontextprotocol/sdk/client/index.js": v1Client,
  "@modelcontextprotocol/sdk/client/streamableHttp.js": v1Transport,
};

/** The TypeScript block after `<!-- readme-test: name -->`. */
function block(name: string): string {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(README);
  if (!match?.[1]) throw new Error(`README block ${name} not found`);
  return match[1];
}

type Run = { logs: unknown[]; locals: Record<string, unknown> };

/** Runs a README block; `replace` swaps exact source strings first; `expose` names locals to hand back. */
async function run(
  name: string,
  options: { replace?: [string, string][]; expose?: string[]; inject?: Record<string, unknown> } = {},
): Promise<Run> {
  let source = block(name);
  for (const [from, to] of options.replace ?? []) {
    expect(source, `README block ${name} should contain ${from}`).toContain(from);
    source = source.replaceAll(from, to);
  }
  source += `\nreturn { ${(options.expose ?? []).join(", ")} };`;
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: false,
  }).outputText;
  const logs: unknown[] = [];
  const require = (id: string) => {
    if (!(id in MODULES)) throw new Error(`README block ${name} imports ${id}, which this test does not provide`);
    return MODULES[id];
  };
  const inject = options.inject ?? {};
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<Record<string, unknown>>;
  const fn = new AsyncFunction("require", "exports", "console", ...Object.keys(inject), js);
  const locals = await fn(require, {}, { log: (...args: unknown[]) => logs.push(...args) }, ...Object.values(inject));
  return { logs, locals };
}

let emu: testing.DescopeEmulator;
let server: Awaited<ReturnType<typeof startExample>>;
beforeAll(async () => {
  emu = await testing.startDescopeEmulator();
  server = await startExample("express", { DESCOPE_ISSUER_URL: emu.issuerURL });
});
afterAll(async () => {
  await server?.stop();
  await emu?.close();
});

const TOOLS = ["whoami", "profile", "write_note", "connection_status"];
const ALREADY_STARTED = "StreamableHTTPClientTransport already started!";

describe("packages/testing/README.md, as written", () => {
  it("quick start: a minted token is accepted, a hostile one refused with its code", async () => {
    const { logs } = await run("quick-start");
    expect(logs).toEqual(["U2EmulatorUser0001", "invalid_token"]);
  });

  it("v2 client: 401 → registration → authorize → finishAuth → new transport → tools → 403 step-up → write_note", async () => {
    const before = emu.requests.length;
    const { logs, locals } = await run("headless-v2", { replace: [[PLACEHOLDER, server.mcpURL]], expose: ["oauth"] });
    expect((logs[0] as string[]).sort()).toEqual([...TOOLS].sort());
    expect(JSON.parse((logs[1] as { content: { text: string }[] }).content[0]?.text as string)).toEqual({
      saved: true,
      length: 5,
    });
    const oauth = locals.oauth as testing.HeadlessOAuthClient;
    expect(oauth.authorizations).toBe(2);
    expect(oauth.lastRequestedScope?.split(" ")).toContain("notes:write");
    expect(emu.requests.slice(before).filter((r) => r.path.endsWith("/register"))).toHaveLength(1);
  });

  it("v1 client: the same flow with finishAuth(code)", async () => {
    const { logs, locals } = await run("headless-v1", { replace: [[PLACEHOLDER, server.mcpURL]], expose: ["oauth"] });
    expect((logs[0] as string[]).sort()).toEqual([...TOOLS].sort());
    expect((locals.oauth as testing.HeadlessOAuthClient).authorizations).toBe(1);
  });

  it("why a new transport (v2): the one connect() started cannot be started again; the Client can be reused", async () => {
    const url = new URL(server.mcpURL);
    const oauth = new testing.HeadlessOAuthClient();
    const client = new v2.Client({ name: "readme-test", version: "1.0.0" });
    const first = new v2.StreamableHTTPClientTransport(url, { authProvider: oauth });
    await expect(client.connect(first)).rejects.toBeInstanceOf(v2.UnauthorizedError);
    await first.finishAuth(oauth.takeCallback().searchParams);
    await expect(client.connect(first)).rejects.toThrow(ALREADY_STARTED);
    await client.connect(new v2.StreamableHTTPClientTransport(url, { authProvider: oauth }));
    expect((await client.listTools()).tools).toHaveLength(TOOLS.length);
    await client.close();
  });

  it("why a new transport (v1): the same", async () => {
    const url = new URL(server.mcpURL);
    const oauth = new testing.HeadlessOAuthClient();
    const client = new v1Client.Client({ name: "readme-test", version: "1.0.0" });
    const first = new v1Transport.StreamableHTTPClientTransport(url, { authProvider: oauth });
    await expect(client.connect(first)).rejects.toBeInstanceOf(v1Auth.UnauthorizedError);
    await first.finishAuth(oauth.takeCallback().searchParams.get("code") as string);
    await expect(client.connect(first)).rejects.toThrow(ALREADY_STARTED);
    // v1's Client keeps the transport it failed to start: close it before connecting again.
    await client.close();
    await client.connect(new v1Transport.StreamableHTTPClientTransport(url, { authProvider: oauth }));
    expect((await client.listTools()).tools).toHaveLength(TOOLS.length);
    await client.close();
  });

  it("client ID metadata document: the setup block, then the v2 flow with its provider — no registration", async () => {
    const cimd = await run("headless-cimd", { expose: ["host", "emu", "oauth"] });
    const host = cimd.locals.host as testing.ClientMetadataHost;
    const cimdEmu = cimd.locals.emu as testing.DescopeEmulator;
    const oauth = cimd.locals.oauth as testing.HeadlessOAuthClient;
    const cimdServer = await startExample("express", { DESCOPE_ISSUER_URL: cimdEmu.issuerURL });
    try {
      const { logs } = await run("headless-v2", {
        replace: [
          [PLACEHOLDER, cimdServer.mcpURL],
          ["const oauth = new HeadlessOAuthClient();", "const oauth = cimdOAuth;"],
        ],
        inject: { cimdOAuth: oauth },
      });
      expect((logs[0] as string[]).sort()).toEqual([...TOOLS].sort());
      expect(oauth.clientInformation()?.client_id).toBe(host.url("/oauth/client.json"));
      expect(cimdEmu.requests.filter((r) => r.path.endsWith("/register"))).toEqual([]);
      // Fetched at both authorizations and both token requests.
      expect(host.requests.filter((r) => r.path === "/oauth/client.json")).toHaveLength(4);
    } finally {
      await cimdServer.stop();
      await cimdEmu.close();
      await host.close();
    }
  });
});

describe("packages/testing/README.md type-checks", () => {
  it("every tested block compiles under strict TypeScript against the real package types", () => {
    const names = [...README.matchAll(/<!-- readme-test: ([a-z0-9-]+) -->/g)].map((m) => m[1] as string);
    expect(names).toEqual(["quick-start", "headless-v2", "headless-v1", "headless-cimd", "hostile"]);
    // Virtual files next to this test, so that imports resolve from the repository's node_modules.
    const dir = fileURLToPath(new URL("./__readme__/", import.meta.url));
    const preludes: Record<string, string> = {
      hostile: [
        'import type { DescopeMcpAuth } from "@descope-mcp/core";',
        'import type { DescopeEmulator } from "@descope-mcp/testing";',
        'import { expect } from "vitest";',
        "declare const emu: DescopeEmulator;",
        "declare const auth: DescopeMcpAuth;",
      ].join("\n"),
    };
    const files = new Map(names.map((n) => [`${dir}${n}.ts`, `${preludes[n] ?? ""}\n${block(n)}\nexport {};\n`]));
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: true,
      types: [], // the blocks use no Node globals; the DOM lib has console, URL and fetch
    };
    const host = ts.createCompilerHost(options);
    const { fileExists, readFile, getSourceFile } = host;
    host.fileExists = (f) => files.has(f) || fileExists(f);
    host.readFile = (f) => files.get(f) ?? readFile(f);
    host.getSourceFile = (f, v, ...rest) => {
      const text = files.get(f);
      return text !== undefined ? ts.createSourceFile(f, text, v) : getSourceFile(f, v, ...rest);
    };
    const program = ts.createProgram([...files.keys()], options, host);
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file
        ? `${d.file.fileName.slice(dir.length)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
        : "";
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    expect(errors).toEqual([]);
  }, 60_000);
});

describe("packages/testing/README.md hostile-token loop", () => {
  it("every hostile token but `valid` is refused by the core", async () => {
    const audience = "http://127.0.0.1:3000/mcp";
    const hostileEmu = await testing.startDescopeEmulator({ audience });
    try {
      const auth = core.createDescopeMcpAuth({ issuerURL: hostileEmu.issuerURL, baseURL: "http://127.0.0.1:3000" });
      await run("hostile", { inject: { emu: hostileEmu, auth, expect } });
      await expect(auth.verifyToken(await hostileEmu.tokens.valid())).resolves.toMatchObject({
        userId: "U2EmulatorUser0001",
      });
    } finally {
      await hostileEmu.close();
    }
  });
});
