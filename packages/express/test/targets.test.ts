// No 5xx and no stack trace for any method or request-target form on the routes the library answers
// (SECURITY.md R23): every method Node's parser accepts, in origin-form and absolute-form (including
// targets no URL parser accepts), against the metadata routes and the MCP path.
import http from "node:http";
import net from "node:net";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRawResponse } from "../../../test/hardening/raw.js";
import { BASE_URL, FLAVORS, listen, type Running } from "./helpers.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: `${BASE_URL}/mcp` });
});
afterAll(() => emu.close());

/** Sends one request head over a socket, exactly as given, and reads the answer. */
function raw(
  port: number,
  method: string,
  target: string,
): Promise<{ status: number; body: string; headers: Record<string, string[]> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${target}`)));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      try {
        resolve(parseRawResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  });
}

// CONNECT never reaches the app (Node emits 'connect', and without a listener drops the socket).
const METHODS = http.METHODS.filter((m) => m !== "CONNECT");
const ROUTES = [
  "/.well-known/oauth-protected-resource",
  "/.well-known/oauth-protected-resource/mcp",
  "/.well-known/oauth-authorization-server",
  "/mcp",
];
const FORMS = [
  (path: string) => path,
  (path: string) => `${path}?x=1`,
  (path: string) => `http://127.0.0.1${path}`,
  (path: string) => `http://mcp.example:99999${path}`, // a port no URL parser accepts
  (path: string) => `http://user:pass@mcp.example${path}`,
];

describe.each(FLAVORS)("every method and request-target form on $name", ({ express, adapter }) => {
  let server: Running;
  let port: number;
  beforeAll(async () => {
    const app = express();
    app.use(
      adapter.descopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, toolScopes: { write_note: ["n:w"] } }),
    );
    app.all("/mcp", (_req, res) => {
      res.status(418).end();
    });
    server = await listen(app);
    port = Number(new URL(server.url).port);
  });
  afterAll(() => server.close());

  it.each(ROUTES)("%s: never 5xx, never HTML; 405 with Allow for the methods it does not serve", async (route) => {
    const metadata = route.startsWith("/.well-known/");
    const served = metadata ? ["GET", "HEAD", "OPTIONS"] : ["GET", "POST", "DELETE", "OPTIONS"];
    for (const method of METHODS) {
      for (const form of FORMS) {
        const target = form(route);
        const answer = await raw(port, method, target);
        const where = `${method} ${target}`;
        expect(answer.status, where).toBeLessThan(500);
        expect(answer.body, where).not.toMatch(/<html|<pre>|\bat \S+ \(/i);
        if (!served.includes(method)) {
          expect(answer.status, where).toBe(405);
          expect(answer.headers.allow?.[0], where).toBe(served.join(", "));
        } else if (!metadata && method !== "OPTIONS") {
          expect(answer.status, where).toBe(401);
        }
      }
    }
  });
});
