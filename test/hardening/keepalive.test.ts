// A refusal keeps the client's keep-alive connection usable (SECURITY.md R24): a refused POST /mcp
// (401, 403) whose small body the gate never needed is read to its end before the answer, so the
// server can take the next request on the same connection. Without it workerd (wrangler dev, Miniflare)
// closes a connection whose request body went unread, and a client that had already sent its next
// request on it — or was still sending the body — sees a reset instead of the 401 that starts OAuth.
import { connect } from "node:net";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample } from "../../e2e/servers.mjs";
import { EXAMPLES } from "./lib.js";

const CALL = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "write_note", arguments: {} },
});

/** Sends `requests` back to back on one connection and collects the status line of every answer. */
function pipeline(port: number, requests: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let data = "";
    const statuses = () => [...data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1] as string);
    const done = () => {
      socket.destroy();
      resolve(statuses());
    };
    const timer = setTimeout(done, 10_000);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      data += chunk;
      if (statuses().length === requests.length) {
        clearTimeout(timer);
        done();
      }
    });
    socket.on("error", () => {
      clearTimeout(timer);
      done();
    });
    socket.on("close", () => {
      clearTimeout(timer);
      done();
    });
    socket.on("connect", async () => {
      for (const request of requests) {
        socket.write(request);
        await new Promise((go) => setTimeout(go, 50)); // the server answers the first before the next arrives
      }
    });
    socket.on("timeout", () => reject(new Error("socket timeout")));
  });
}

describe.each(EXAMPLES)("keep-alive after a refusal on the %s example", (framework) => {
  let emu: DescopeEmulator;
  let server: Awaited<ReturnType<typeof startExample>>;
  let path: string;
  let host: string;

  beforeAll(async () => {
    emu = await startDescopeEmulator();
    server = await startExample(framework, { DESCOPE_ISSUER_URL: emu.issuerURL });
    path = new URL(server.mcpURL).pathname;
    host = new URL(server.mcpURL).host;
  });
  afterAll(async () => {
    await server?.stop();
    await emu?.close();
  });

  const post = (headers: string[], body: string) =>
    [
      `POST ${path} HTTP/1.1`,
      `Host: ${host}`,
      "Content-Type: application/json",
      "Accept: application/json, text/event-stream",
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...headers,
      "",
      body,
    ].join("\r\n");
  const metadata = () =>
    [`GET /.well-known/oauth-protected-resource${path} HTTP/1.1`, `Host: ${host}`, "", ""].join("\r\n");

  it("answers a second request on the connection after a 401 to a POST with a body", async () => {
    expect(await pipeline(server.port, [post([], CALL), metadata()])).toEqual(["401", "200"]);
  });

  it("answers a second request on the connection after a 403 (missing tool scope)", async () => {
    const token = await emu.mintToken({ aud: server.mcpURL, scope: "openid" });
    expect(await pipeline(server.port, [post([`Authorization: Bearer ${token}`], CALL), metadata()])).toEqual([
      "403",
      "200",
    ]);
  });

  it("answers three 401s in a row on one connection", async () => {
    expect(await pipeline(server.port, [post([], CALL), post([], CALL), post([], CALL)])).toEqual([
      "401",
      "401",
      "401",
    ]);
  });
});
