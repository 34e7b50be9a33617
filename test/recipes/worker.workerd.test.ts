// The core README's Cloudflare Worker recipe (test/recipes/worker.ts), inside workerd: its
// `export default { fetch }` called with a Worker `env`, against the emulator (on Node).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RemoteEmulator, startEmulator } from "../edge/emulator.js";
import worker from "./worker.ts";

const BASE_URL = "https://notes.example.workers.dev";
let emu: RemoteEmulator;
let env: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator();
  env = { DESCOPE_ISSUER_URL: emu.issuerURL, BASE_URL };
});
afterAll(() => emu?.close());

const call = (token: string | undefined, name: string) =>
  worker.fetch(
    new Request(`${BASE_URL}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } }),
    }),
    env,
  );

/** The first `data:` event of an SSE answer (createMcpHandler answers legacy requests as SSE). */
async function rpc(response: Response): Promise<{ result?: { content: Array<{ text: string }> } }> {
  const text = await response.text();
  const data = text.split("\n").find((line) => line.startsWith("data: "));
  return JSON.parse(data ? data.slice(6) : text);
}

describe("the Cloudflare Worker recipe", () => {
  it("runs inside workerd", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
  });

  it("serves the metadata, the challenge, the caller's tool call, and refuses write_note without the scope", async () => {
    const prm = await worker.fetch(new Request(`${BASE_URL}/.well-known/oauth-protected-resource/mcp`), env);
    expect(await prm.json()).toMatchObject({ resource: `${BASE_URL}/mcp`, authorization_servers: [emu.issuerURL] });
    expect((await call(undefined, "whoami")).status).toBe(401);
    const reader = await emu.mintToken({ aud: `${BASE_URL}/mcp`, scope: "openid" });
    const whoami = await call(reader, "whoami");
    expect(whoami.status).toBe(200);
    expect((await rpc(whoami)).result?.content[0]?.text).toBe("U2EmulatorUser0001");
    expect((await call(reader, "write_note")).status).toBe(403);
    const writer = await emu.mintToken({ aud: `${BASE_URL}/mcp`, scope: "openid notes:write" });
    expect((await rpc(await call(writer, "write_note"))).result?.content[0]?.text).toBe("saved");
    expect((await worker.fetch(new Request(`${BASE_URL}/health`), env)).status).toBe(404);
  });
});
