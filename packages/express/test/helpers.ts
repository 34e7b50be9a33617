import http from "node:http";
import type { AddressInfo } from "node:net";
import express5 from "express";
import express4 from "express4";
import { vi } from "vitest";

/** The adapter's module, as a user would import it. */
export type Adapter = typeof import("../src/index.js");
type ExpressFactory = typeof express5;

export interface Flavor {
  /** Express major version the app AND the adapter's own Router/body parser come from. */
  name: "Express 5" | "Express 4";
  express: ExpressFactory;
  adapter: Adapter;
}

// The adapter imports `express` (its peer dependency) for its Router and JSON parser. A user on
// Express 4 has Express 4 there, so the Express 4 flavor loads a second copy of the adapter whose
// `express` import resolves to the real Express 4 package (the `express4` devDependency alias).
const adapter5: Adapter = await import("../src/index.js");
vi.doMock("express", async () => await import("express4"));
const adapter4 = (await import(/* @vite-ignore */ `${"../src/index.js"}?express4`)) as Adapter;
vi.doUnmock("express");

export const FLAVORS: Flavor[] = [
  { name: "Express 5", express: express5, adapter: adapter5 },
  { name: "Express 4", express: express4 as unknown as ExpressFactory, adapter: adapter4 },
];

export const BASE_URL = "https://mcp.example.com";

export interface Running {
  url: string;
  close(): Promise<void>;
}

/** Serves a request listener on a random port of 127.0.0.1. */
export async function listen(app: http.RequestListener): Promise<Running> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const MCP_ACCEPT = "application/json, text/event-stream";

/** A JSON-RPC `tools/call`. */
export const toolCall = (name: string, id: number | string = 1, args: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});

/** POSTs a JSON-RPC body the way MCP clients do. */
export function postMcp(url: string, body: unknown, token?: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: MCP_ACCEPT,
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A request over `node:http` with headers given as a flat raw array (duplicates kept, in order):
 * fetch would merge two `Authorization` headers into one.
 */
export function rawRequest(
  url: string,
  options: { method?: string; path?: string; headers?: string[]; body?: string },
): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    // With raw array headers Node adds no Host header of its own.
    const headers = ["host", target.host, ...(options.headers ?? [])];
    if (options.body !== undefined) headers.push("content-length", String(Buffer.byteLength(options.body)));
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? "GET",
        path: options.path ?? `${target.pathname}${target.search}`,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The JSON-RPC message(s) of a Streamable HTTP answer, whether JSON or a (finished) SSE stream. */
export async function rpcResult(response: Response): Promise<unknown> {
  const text = await response.text();
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    const data = text
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice("data: ".length)) as unknown);
    return data.length === 1 ? data[0] : data;
  }
  return JSON.parse(text) as unknown;
}

/** The text of the first content item of a `tools/call` result, parsed as JSON. */
export function toolOutput(message: unknown): unknown {
  const m = message as { result?: { content?: { text?: string }[] }; error?: unknown };
  const text = m.result?.content?.[0]?.text;
  if (typeof text !== "string") throw new Error(`not a tool result: ${JSON.stringify(message)}`);
  return JSON.parse(text) as unknown;
}
