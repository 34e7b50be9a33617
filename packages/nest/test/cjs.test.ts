// The CommonJS build in a CommonJS Nest app, on Nest 11 and 12, Express and Fastify: the fixture
// app (TypeScript compiled to CommonJS by tsc, with decorator metadata, as Nest users build) runs in
// its own process from a directory whose node_modules hold this package's built files and the
// Nest major under test, so every `require` resolves the way it does in a user's app.
import { type ChildProcess, spawn } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, postMcp, toolCall } from "./helpers.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE = join(HERE, "..");

/** Where each Nest major is installed (its packages resolve their own dependencies from there). */
const MAJORS = {
  "Nest 11": join(HERE, "nest11"),
  "Nest 12": PACKAGE,
} as const;

let emu: DescopeEmulator;
let root: string;
beforeAll(async () => {
  emu = await startDescopeEmulator();
  root = mkdtempSync(join(tmpdir(), "descope-mcp-nest-cjs-"));
});
afterAll(async () => {
  await emu.close();
  rmSync(root, { recursive: true, force: true });
});

/** A directory laid out like a user's CommonJS app on `major`: node_modules and the compiled app. */
function appDirectory(major: keyof typeof MAJORS): string {
  const dir = join(root, major.replace(" ", ""));
  const modules = join(dir, "node_modules");
  const link = (name: string, target: string) => {
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(realpathSync(target), join(modules, name), "dir");
  };
  const nest = ["@nestjs/common", "@nestjs/core", "@nestjs/platform-express", "@nestjs/platform-fastify"];
  for (const name of [...nest, "reflect-metadata", "rxjs"]) link(name, join(MAJORS[major], "node_modules", name));
  link("@descope-mcp/core", join(PACKAGE, "..", "core"));
  // This package as published: its manifest and built files, copied (not linked), so they resolve Nest from here.
  const self = join(modules, "@descope-mcp", "nest");
  mkdirSync(self, { recursive: true });
  cpSync(join(PACKAGE, "package.json"), join(self, "package.json"));
  cpSync(join(PACKAGE, "dist"), join(self, "dist"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "cjs-app", private: true, type: "commonjs" }));
  cpSync(join(HERE, "fixtures", "cjs-app.ts"), join(dir, "app.ts"));
  return dir;
}

/** Compiles the app as tsc does for a CommonJS project (decorator metadata on). */
function compile(dir: string): void {
  const { outputText } = ts.transpileModule(readFileSync(join(dir, "app.ts"), "utf8"), {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
    },
  });
  writeFileSync(join(dir, "app.js"), outputText);
}

async function run(dir: string, platform: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["app.js"], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      ISSUER_URL: emu.issuerURL,
      BASE_URL: url,
      PORT: String(port),
      NEST_PLATFORM: platform,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk) => {
      output += chunk;
      if (output.includes("listening")) resolve();
    });
    child.stderr?.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => reject(new Error(`the app exited with ${code}:\n${output}`)));
  });
  return { url, child };
}

describe.each(Object.keys(MAJORS) as Array<keyof typeof MAJORS>)("a CommonJS app on %s", (major) => {
  let dir: string;
  beforeAll(() => {
    dir = appDirectory(major);
    compile(dir);
    expect(readFileSync(join(dir, "app.js"), "utf8")).toContain('require("@descope-mcp/nest")');
  });

  it.concurrent.each(["express", "fastify"])("works on %s with the CommonJS build", async (platform) => {
    const { url, child } = await run(dir, platform);
    try {
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok", format: "commonjs" });
      const prm = await fetch(`${url}/.well-known/oauth-protected-resource/mcp`);
      expect((await prm.json()).resource).toBe(`${url}/mcp`);
      const anonymous = await postMcp(`${url}/mcp`, '{"jsonrpc":');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toBe(
        `Bearer scope="openid", resource_metadata="${url}/.well-known/oauth-protected-resource/mcp"`,
      );
      const token = await emu.mintToken({ aud: `${url}/mcp`, azp: "cjs-client" });
      expect((await postMcp(`${url}/mcp`, toolCall("write_note"), token)).status).toBe(403);
      const ok = await postMcp(`${url}/mcp`, toolCall("whoami"), token);
      expect(await ok.json()).toEqual({
        body: toolCall("whoami"),
        userId: "U2EmulatorUser0001",
        session: "U2EmulatorUser0001",
        fromRequest: "U2EmulatorUser0001",
        auth: "cjs-client",
      });
    } finally {
      child.kill("SIGTERM");
    }
  });
});
