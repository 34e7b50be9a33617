// The core (the README's Bun.serve and Deno.serve recipes) and the Hono example's app, run by the
// real Bun and Deno binaries against the emulator, driven by the official MCP client: metadata,
// the 401 challenge, the caller reaching the tool, a per-tool scope enforced before dispatch.
import { join } from "node:path";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, type Running, start } from "./runtimes.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator();
});
afterAll(() => emu?.close());

const textOf = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]?.text;

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "runtime-smoke", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  return client;
}

const SERVERS = {
  "the core's recipe": (runtime: "bun" | "deno") => ({
    file: join(ROOT, "test", "recipes", `${runtime}.ts`),
    cwd: ROOT,
    ready: runtime === "bun" ? /MCP server on http:/ : /Listening on http:/,
    whoami: (text: string) => expect(text).toBe("U2EmulatorUser0001"),
  }),
  "the Hono example's app": (_runtime: "bun" | "deno") => ({
    file: join(ROOT, "examples", "hono", "scripts", "serve.mjs"),
    cwd: join(ROOT, "examples", "hono"),
    ready: /listening/,
    // The example's whoami reads getSession(ctx).
    whoami: (text: string) =>
      expect(JSON.parse(text)).toMatchObject({ userId: "U2EmulatorUser0001", scopes: ["openid"] }),
  }),
  "the core with sessionContext": (_runtime: "bun" | "deno") => ({
    file: join(ROOT, "test", "runtimes", "session-context.ts"),
    cwd: ROOT,
    ready: /listening/,
    // getSession(ctx), then getSession() through the runtime's AsyncLocalStorage, across awaits.
    whoami: (text: string) => expect(text).toBe("U2EmulatorUser0001 U2EmulatorUser0001"),
  }),
};

describe.each(["bun", "deno"] as const)("under %s", (runtime) => {
  describe.each(Object.keys(SERVERS) as Array<keyof typeof SERVERS>)("%s", (name) => {
    const spec = SERVERS[name](runtime);
    let server: Running;
    beforeAll(async () => {
      server = await start(runtime, spec.file, {
        cwd: spec.cwd,
        env: { DESCOPE_ISSUER_URL: emu.issuerURL },
        ready: spec.ready,
      });
    });
    afterAll(() => server?.stop());

    it("serves the protected resource metadata and answers 401 with the challenge", async () => {
      const prm = await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp`);
      expect(prm.status).toBe(200);
      expect(await prm.json()).toMatchObject({ resource: `${server.url}/mcp`, authorization_servers: [emu.issuerURL] });
      const refused = await fetch(`${server.url}/mcp`, { method: "POST", body: "{}" });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toMatch(
        new RegExp(`^Bearer .*resource_metadata="${server.url}/.well-known/oauth-protected-resource/mcp"$`),
      );
    });

    it("lets the official client call a tool as the caller, and refuses write_note without notes:write", async () => {
      const aud = `${server.url}/mcp`;
      const reader = await connect(aud, await emu.mintToken({ aud, scope: "openid" }));
      spec.whoami(textOf(await reader.callTool({ name: "whoami", arguments: {} })) as string);
      await expect(reader.callTool({ name: "write_note", arguments: { text: "x" } })).rejects.toThrow(
        /403|insufficient.scope/i,
      );
      const writer = await connect(aud, await emu.mintToken({ aud, scope: "openid notes:write" }));
      const saved = textOf(await writer.callTool({ name: "write_note", arguments: { text: "four" } }));
      expect(saved === "saved" || JSON.parse(saved as string).saved === true).toBe(true);
      await Promise.all([reader.close(), writer.close()]);
    });
  });
});
