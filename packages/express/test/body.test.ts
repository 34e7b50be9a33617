// The body contract over raw TCP: with per-tool scopes configured, the gate judges exactly the body
// the MCP transport dispatches, or refuses. Every case uses a fresh (never cached) token without
// `notes:write` and asserts on what matters: the tool did not run.
import { randomUUID } from "node:crypto";
import type { AuthEvent } from "@descope-mcp/core";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import { McpServer as V1Server } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport as V1Transport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/server";
import type { NextFunction, Request, Response } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { patiently, playRaw, RAW_SCENARIOS } from "../../../test/hardening/raw.js";
import { BASE_URL, FLAVORS, listen, postMcp, type Running, toolCall } from "./helpers.js";

const RESOURCE = `${BASE_URL}/mcp`;

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
});
afterAll(() => emu.close());

/** A token no cache has seen (a unique `jti`), with or without the tool's scope. */
const freshToken = (scope: string) => emu.mintToken({ scope, jti: randomUUID() });

const WRITE = JSON.stringify(toolCall("write_note", 7, { text: "must not be written" }));

interface Probe {
  /** Tool runs, in order. */
  calls: string[];
  /** Decisions and outcomes seen by the server: gate events, route hits, error-handler hits. */
  settled: string[];
}

/** A stateless MCP endpoint (SDK v2, or v1) whose `write_note` records every run. */
function mcpEndpoint(probe: Probe, sdk: "v2" | "v1") {
  return async (req: Request, res: Response) => {
    probe.settled.push("route");
    const run = async () => {
      probe.calls.push("write_note");
      return { content: [{ type: "text" as const, text: "written" }] };
    };
    if (sdk === "v1") {
      const server = new V1Server({ name: "body-v1", version: "1.0.0" });
      server.registerTool("write_note", { description: "write" }, run);
      const transport = new V1Transport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on("close", () => void transport.close());
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
      return;
    }
    const server = new McpServer({ name: "body-v2", version: "1.0.0" });
    server.registerTool("write_note", { description: "write" }, run);
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => void transport.close());
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
}

/** Waits (bounded) until the server has decided the request: the gate's event, the route, or an error handler. */
async function decided(probe: Probe, before: number): Promise<void> {
  for (let i = 0; i < 2000 && probe.settled.length === before; i++) await new Promise((r) => setTimeout(r, 5));
  expect(probe.settled.length, "the server never decided the request").toBeGreaterThan(before);
}

describe.each(FLAVORS)("the body contract over raw TCP on $name", ({ express, adapter }) => {
  // The three ways apps are wired, each with the SDK that app uses.
  const layouts = [
    ["the README pattern: express.json() on the route after the router (SDK v2)", "after", "v2"],
    ["no body parser at all: the handler passes req.body (SDK v2)", "none", "v2"],
    ["express.json() before the router (SDK v2)", "before", "v2"],
    ["the README pattern with the SDK v1 transport", "after", "v1"],
  ] as const;

  describe.each(layouts)("%s", (_label, parser, sdk) => {
    let server: Running;
    let port: number;
    const probe: Probe = { calls: [], settled: [] };

    beforeAll(async () => {
      const app = express();
      if (parser === "before") app.use(express.json());
      app.use(
        adapter.descopeMcpAuth({
          issuerURL: emu.issuerURL,
          baseURL: BASE_URL,
          toolScopes: { write_note: ["notes:write"] },
          onEvent: (e: AuthEvent) => probe.settled.push(`${e.type} ${e.status}`),
        }),
      );
      if (parser === "after") app.post("/mcp", express.json(), mcpEndpoint(probe, sdk));
      else app.post("/mcp", mcpEndpoint(probe, sdk));
      app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
        probe.settled.push("error handler");
        res.status((error as { status?: number }).status ?? 500).json({ error: "from the app" });
      });
      server = await listen(app);
      port = Number(new URL(server.url).port);
    });
    afterAll(() => server.close());

    it.each(RAW_SCENARIOS.map((s) => [s.name, s] as const))("%s: the tool does not run", async (_name, scenario) => {
      const before = probe.settled.length;
      const token = await freshToken("openid");
      const answer = await playRaw(port, scenario, { path: "/mcp", token, body: WRITE });
      await decided(probe, before);
      expect(probe.calls).toEqual([]);
      if (scenario.complete) {
        // The whole body arrived: judged exactly (403), unless Node aborted the half-closed request
        // first, in which case nothing can be answered.
        expect([403, undefined]).toContain(answer.status);
        if (answer.status === 403) expect(JSON.parse(answer.body)).toMatchObject({ error: "insufficient_scope" });
      } else {
        expect([400, undefined]).toContain(answer.status);
      }
    });

    it.each(RAW_SCENARIOS.filter((s) => s.complete).map((s) => [patiently(s).name, patiently(s)] as const))(
      "%s: 403 without the scope, and the tool runs once with it",
      async (_name, scenario) => {
        const before = probe.calls.length;
        const refused = await playRaw(port, scenario, { path: "/mcp", token: await freshToken("openid"), body: WRITE });
        expect(refused.status).toBe(403);
        expect(refused.headers["www-authenticate"]?.[0]).toMatch(/^Bearer error="insufficient_scope"/);
        expect(probe.calls.length).toBe(before);
        const allowed = await playRaw(port, scenario, {
          path: "/mcp",
          token: await freshToken("openid notes:write"),
          body: WRITE,
        });
        expect(allowed.status).toBe(200);
        expect(probe.calls.length).toBe(before + 1);
      },
    );

    it.each([
      ["a wrong Content-Type", { "content-type": "text/plain" }, WRITE, 400, /Content-Type: application\/json/],
      ["no Content-Type", { "content-type": "" }, WRITE, 400, /no Content-Type/],
      ["a charset other than UTF-8", { "content-type": "application/json; charset=utf-16" }, WRITE, 400, /UTF-8/],
      ["a Content-Encoding", { "content-encoding": "gzip" }, WRITE, 400, /Content-Encoding/],
      ["a body that is not JSON", {}, WRITE.slice(0, -1), 400, /not valid JSON/],
      ["an empty body", {}, "", 400, /empty/],
      [
        "a body over the limit",
        {},
        JSON.stringify(toolCall("write_note", 1, { text: "x".repeat(5 * 1024 * 1024) })),
        413,
        /larger than/,
      ],
    ] as const)("refuses %s before dispatch, with a fresh token", async (_name, headers, body, status, message) => {
      const before = probe.settled.length;
      const calls = probe.calls.length;
      const res = await postMcp(`${server.url}/mcp`, body, await freshToken("openid notes:write"), headers);
      await decided(probe, before);
      expect(probe.calls.length).toBe(calls);
      if (parser === "before") {
        // express.json() before the router decides first: it refuses some of these itself (400/413/415)
        // or hands the gate what it parsed (an empty body becomes {}), which the gate judges and the
        // transport then refuses. Either way the tool did not run (asserted above).
        expect([400, 413, 415]).toContain(res.status);
        return;
      }
      const json = await res.json();
      expect({ status: res.status, settled: probe.settled.at(-1) }).toEqual({ status, settled: `deny ${status}` });
      expect(json.error_description, JSON.stringify(json)).toMatch(message);
    });
  });
});
