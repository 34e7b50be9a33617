// The core README's Next.js App Router recipe: its route files (test/recipes/next/app/**/route.ts)
// served the way Next's router serves them — the folder path picks the route file, the HTTP method
// picks its export (405 when it has none, 404 when no route matches) — and driven by the official
// v2 and v1 clients through the whole OAuth flow against the emulator. (Next itself is not started
// here: installing and building it would cost more than this whole suite should.)
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runClientFlowOn } from "./flow.js";

type RouteModule = Partial<Record<string, (request: Request) => Promise<Response>>>;

let emu: DescopeEmulator;
let url: string;
let close: () => Promise<void>;

/** Next's App Router matching for the recipe's three route files. */
function routeFor(pathname: string): (() => Promise<RouteModule>) | undefined {
  if (pathname === "/mcp") return () => import("./next/app/mcp/route.ts");
  if (pathname === "/.well-known/oauth-authorization-server")
    return () => import("./next/app/.well-known/oauth-authorization-server/route.ts");
  if (
    pathname === "/.well-known/oauth-protected-resource" ||
    pathname.startsWith("/.well-known/oauth-protected-resource/")
  )
    return () => import("./next/app/.well-known/oauth-protected-resource/[[...path]]/route.ts");
  return undefined;
}

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = new URL(req.url ?? "/", url);
  const route = routeFor(target.pathname);
  const handler = route ? (await route())[req.method ?? "GET"] : undefined;
  if (!handler) {
    res.statusCode = route ? 405 : 404;
    return void res.end();
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  const body = chunks.length && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
  const response = await handler(new Request(target, { method: req.method, headers, body }));
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  res.end(Buffer.from(await response.arrayBuffer()));
}

beforeAll(async () => {
  emu = await startDescopeEmulator();
  const server = createServer((req, res) => {
    serve(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // What `next dev`/`next start` would read from .env: the route files build their engine from it.
  vi.stubEnv("DESCOPE_ISSUER_URL", emu.issuerURL);
  vi.stubEnv("BASE_URL", url);
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await close?.();
  await emu?.close();
});

describe("the Next.js App Router recipe", () => {
  it("serves the metadata from its .well-known route files", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const r = await fetch(`${url}${path}`);
      expect(r.status).toBe(200);
      expect((await r.json()).resource).toBe(`${url}/mcp`);
    }
    const as = await fetch(`${url}/.well-known/oauth-authorization-server`);
    expect((await as.json()).issuer).toBe(emu.issuerURL);
    expect((await fetch(`${url}/mcp`, { method: "OPTIONS" })).status).toBe(204);
    expect((await fetch(`${url}/mcp`, { method: "PUT" })).status).toBe(405); // no PUT export
  });

  it.each(["v2", "v1"] as const)("runs the official %s client's OAuth flow", async (sdk) => {
    const result = await runClientFlowOn(`${url}/mcp`, sdk);
    expect(result).toEqual({ firstStatus: 401, whoami: "U2EmulatorUser0001", saved: "saved", authorizations: 2 }); // openid, then the step-up to notes:write
  });

  it("refuses write_note without notes:write before the tool runs (403 with the step-up challenge)", async () => {
    const token = await emu.mintToken({ aud: `${url}/mcp`, scope: "openid" });
    const r = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "write_note", arguments: {} },
      }),
    });
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toMatch(
      /^Bearer error="insufficient_scope", .*scope="notes:write openid"/,
    );
  });
});
