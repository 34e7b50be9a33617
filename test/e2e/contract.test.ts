import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExampleToExit, startExample } from "../../e2e/servers.mjs";
import { parseAnswer } from "../hardening/answers.mjs";
import { EXAMPLES } from "./examples.js";

const CAL = "https://www.googleapis.com/auth/calendar.readonly";
const ACCEPT = "application/json, text/event-stream";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator();
});
afterAll(() => emu.close());

async function callTool(url: string, token: string, name: string, args: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: ACCEPT },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } }),
  });
  // JSON, or an SSE stream carrying the JSON-RPC answer (the server's choice).
  const body = parseAnswer(await response.text());
  return {
    status: response.status,
    body,
    text: body.result?.content?.[0]?.text as string,
    isError: body.result?.isError,
  };
}

describe.each(EXAMPLES)("%s example follows the contract", (framework) => {
  describe("with a management key and MCP_PATH=/api/v2/mcp", () => {
    let server: Awaited<ReturnType<typeof startExample>>;
    beforeAll(async () => {
      server = await startExample(framework, {
        DESCOPE_ISSUER_URL: emu.issuerURL,
        MCP_PATH: "/api/v2/mcp",
        DESCOPE_MANAGEMENT_KEY: emu.managementKey,
      });
    });
    afterAll(() => server?.stop());

    it("prints one 'listening' line", () => {
      expect(server.output()).toMatch(/listening/);
    });

    it("serves /health without authentication", async () => {
      const r = await fetch(`${server.baseURL}/health`);
      expect(r.status).toBe(200);
    });

    it("serves the PRM at the path-aware and root URLs with resource = BASE_URL + MCP_PATH", async () => {
      for (const path of [
        "/.well-known/oauth-protected-resource/api/v2/mcp",
        "/.well-known/oauth-protected-resource",
      ]) {
        const r = await fetch(`${server.baseURL}${path}`);
        expect(r.status).toBe(200);
        expect(r.headers.get("access-control-allow-origin")).toBe("*");
        expect(await r.json()).toEqual({
          resource: `${server.baseURL}/api/v2/mcp`,
          authorization_servers: [emu.issuerURL],
          bearer_methods_supported: ["header"],
          scopes_supported: ["openid", "outbound.token.fetch", "notes:write"],
          resource_name: expect.any(String),
        });
      }
    });

    it("forwards Descope's authorization-server metadata", async () => {
      const r = await fetch(`${server.baseURL}/.well-known/oauth-authorization-server`);
      expect(r.status).toBe(200);
      const doc = await r.json();
      expect(doc.issuer).toBe(emu.issuerURL);
      expect(doc.code_challenge_methods_supported).toEqual(["S256"]);
    });

    it("protects the MCP endpoint and nothing is served on the default path", async () => {
      const r = await fetch(`${server.baseURL}/api/v2/mcp`, { method: "POST", body: "{}" });
      expect(r.status).toBe(401);
      const old = await fetch(`${server.baseURL}/mcp`, { method: "POST", body: "{}" });
      expect(old.status).toBe(404);
    });

    it("whoami returns the caller", async () => {
      const token = await emu.mintToken({
        aud: server.mcpURL,
        scope: "openid",
        azp: "client-9",
        roles: ["r"],
        permissions: ["p"],
      });
      const r = await callTool(server.mcpURL, token, "whoami");
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({
        userId: "U2EmulatorUser0001",
        email: "ada@example.com",
        clientId: "client-9",
        scopes: ["openid"],
        roles: ["r"],
        permissions: ["p"],
        tenants: {},
      });
    });

    it("write_note needs notes:write, enforced as HTTP 403 before dispatch", async () => {
      const without = await emu.mintToken({ aud: server.mcpURL, scope: "openid" });
      const refused = await callTool(server.mcpURL, without, "write_note", { text: "x" });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe("insufficient_scope");
      const withScope = await emu.mintToken({ aud: server.mcpURL, scope: "openid notes:write" });
      const ok = await callTool(server.mcpURL, withScope, "write_note", { text: "four" });
      expect(JSON.parse(ok.text)).toEqual({ saved: true, length: 4 });
    });

    it("connection_status reports connected / not connected and never returns the token", async () => {
      const token = await emu.mintToken({ aud: server.mcpURL, scope: "openid outbound.token.fetch" });
      emu.setConnection("google-calendar", { status: "connected", accessToken: "ya29.never-show-me", scopes: [CAL] });
      const yes = await callTool(server.mcpURL, token, "connection_status");
      expect(JSON.parse(yes.text)).toEqual({ appId: "google-calendar", connected: true });
      expect(JSON.stringify(yes.body)).not.toContain("ya29.never-show-me");
      emu.setConnection("google-calendar", { status: "not_connected" });
      const no = await callTool(server.mcpURL, token, "connection_status");
      expect(JSON.parse(no.text)).toEqual({ appId: "google-calendar", connected: false });
      emu.setConnection("google-calendar", { status: "denied" });
      const denied = await callTool(server.mcpURL, token, "connection_status");
      expect(denied.isError).toBe(true);
      expect(denied.text).toBe("Access to google-calendar was denied by Descope policy");
      expect(JSON.stringify(denied.body)).not.toContain(token);
    });

    it("profile loads the user through the management API", async () => {
      const token = await emu.mintToken({ aud: server.mcpURL });
      const r = await callTool(server.mcpURL, token, "profile");
      expect(JSON.parse(r.text)).toEqual({
        userId: "U2EmulatorUser0001",
        email: "ada@example.com",
        name: "Ada Lovelace",
      });
    });
  });

  describe("without a management key", () => {
    let server: Awaited<ReturnType<typeof startExample>>;
    beforeAll(async () => {
      server = await startExample(framework, { DESCOPE_ISSUER_URL: emu.issuerURL });
    });
    afterAll(() => server?.stop());

    it("profile answers a clear tool error", async () => {
      const token = await emu.mintToken({ aud: server.mcpURL });
      const r = await callTool(server.mcpURL, token, "profile");
      expect(r.status).toBe(200);
      expect(r.isError).toBe(true);
      expect(r.text).toBe("The profile tool needs DESCOPE_MANAGEMENT_KEY to be configured on this server");
    });
  });

  describe("bad configuration exits before listening with one clear line", () => {
    it.each([
      [
        "missing BASE_URL",
        { DESCOPE_ISSUER_URL: "https://api.descope.com/v1/apps/agentic/P2abcdefghijklmnopqrstuvwxyz/M1" },
        "error: BASE_URL is required",
      ],
      [
        "missing issuer",
        { BASE_URL: "http://127.0.0.1:3001" },
        "error: One of DESCOPE_ISSUER_URL, DESCOPE_WELL_KNOWN_URL or DESCOPE_PROJECT_ID is required",
      ],
      [
        "malformed issuer",
        { DESCOPE_ISSUER_URL: "not-a-url", BASE_URL: "http://127.0.0.1:3001" },
        "error: DESCOPE_ISSUER_URL must be an absolute http(s) URL",
      ],
      [
        "issuer without project",
        { DESCOPE_ISSUER_URL: "https://api.descope.com/v1/apps", BASE_URL: "http://127.0.0.1:3001" },
        "error: DESCOPE_ISSUER_URL does not contain a Descope project ID",
      ],
      [
        "malformed BASE_URL",
        { DESCOPE_ISSUER_URL: "https://api.descope.com/P2abcdefghijklmnopqrstuvwxyz", BASE_URL: "localhost:3001" },
        "error: BASE_URL must be an absolute http(s) URL",
      ],
      [
        "malformed MCP_PATH",
        {
          DESCOPE_ISSUER_URL: "https://api.descope.com/P2abcdefghijklmnopqrstuvwxyz",
          BASE_URL: "http://127.0.0.1:3001",
          MCP_PATH: "mcp",
        },
        "error: MCP_PATH must be a path starting with '/'",
      ],
      [
        "malformed PORT",
        {
          DESCOPE_ISSUER_URL: "https://api.descope.com/P2abcdefghijklmnopqrstuvwxyz",
          BASE_URL: "http://127.0.0.1:3001",
          PORT: "http",
        },
        'error: PORT must be a port number (0-65535), got "http"',
      ],
    ])("%s", async (_name, env, line) => {
      const { code, stdout, stderr } = await runExampleToExit(framework, env);
      expect(code).not.toBe(0);
      expect(stdout).not.toMatch(/listening/);
      expect(stderr.trim().split("\n")[0]).toContain(line);
      expect(stderr.trim().split("\n")).toHaveLength(1);
    });
  });
});
