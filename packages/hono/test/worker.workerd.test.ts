// The README's Cloudflare Workers recipe (test/recipes/worker.ts) inside workerd, with the official
// v2 client in the Worker itself: metadata, 401, the caller reaching the tool through
// getSession(ctx), write_note refused without notes:write.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RemoteEmulator, startEmulator } from "../../../test/edge/emulator.js";
import worker from "./recipes/worker.js";

const BASE_URL = "https://notes.example.workers.dev";
const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} };
let emu: RemoteEmulator;
let env: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator();
  env = { DESCOPE_ISSUER_URL: emu.issuerURL, BASE_URL };
});
afterAll(() => emu?.close());

const fetchWorker = async (url: string | URL | Request, init?: RequestInit) =>
  worker.fetch(url instanceof Request ? url : new Request(url, init), env, ctx as never);

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: "worker-recipe", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${BASE_URL}/mcp`), {
      fetch: fetchWorker,
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

describe("the Cloudflare Workers recipe", () => {
  it("runs inside workerd", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
  });

  it("serves the metadata and the challenge", async () => {
    const prm = await fetchWorker(`${BASE_URL}/.well-known/oauth-protected-resource/mcp`);
    expect(await prm.json()).toMatchObject({ resource: `${BASE_URL}/mcp`, authorization_servers: [emu.issuerURL] });
    const refused = await fetchWorker(`${BASE_URL}/mcp`, { method: "POST", body: "{}" });
    expect(refused.status).toBe(401);
  });

  it("runs the caller's tool calls, and refuses write_note without notes:write", async () => {
    const aud = `${BASE_URL}/mcp`;
    const reader = await connect(await emu.mintToken({ aud, scope: "openid" }));
    const whoami = await reader.callTool({ name: "whoami", arguments: {} });
    expect((whoami as { content: Array<{ text: string }> }).content[0]?.text).toBe("U2EmulatorUser0001");
    await expect(reader.callTool({ name: "write_note", arguments: {} })).rejects.toThrow(/403|insufficient.scope/i);
    const writer = await connect(await emu.mintToken({ aud, scope: "openid notes:write" }));
    const saved = await writer.callTool({ name: "write_note", arguments: {} });
    expect((saved as { content: Array<{ text: string }> }).content[0]?.text).toBe("saved");
    await Promise.all([reader.close(), writer.close()]);
  });
});
