// Shared by the HTTP suites. They import Nest by its package names; nest11.test.ts redirects those
// names to the Nest 11 install (test/nest11), so the same suites run on the lowest and highest major.
import http from "node:http";
import net, { createServer } from "node:net";
import {
  type DynamicModule,
  type ForwardReference,
  type INestApplication,
  Module,
  type NestApplicationOptions,
  type Provider,
  type Type,
} from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { FastifyAdapter } from "@nestjs/platform-fastify";

export type Platform = "express" | "fastify";
export const PLATFORMS: Platform[] = ["express", "fastify"];

export const BASE_URL = "https://mcp.example.com";
export const RESOURCE = `${BASE_URL}/mcp`;
export const PRM = `${BASE_URL}/.well-known/oauth-protected-resource/mcp`;
export const MCP_ACCEPT = "application/json, text/event-stream";

export interface AppDefinition {
  imports?: Array<Type | DynamicModule | Promise<DynamicModule> | ForwardReference>;
  controllers?: Type[];
  providers?: Provider[];
}

export interface RunningApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Configures the app before it listens (global prefix, filters, body parsers, microservices). */
  setup?: (app: INestApplication) => unknown;
  /** `NestFactory.create` options (default `{ logger: false }`). */
  nest?: NestApplicationOptions;
  /** Options of the `FastifyAdapter` (Fastify platform only). */
  fastify?: ConstructorParameters<typeof FastifyAdapter>[0];
  /** Port on 127.0.0.1 (default: a random one). */
  port?: number;
}

/** Creates a Nest app on `platform` from `definition` and listens on 127.0.0.1. */
export async function startNest(
  platform: Platform,
  definition: AppDefinition,
  { setup, nest = {}, fastify, port = 0 }: StartOptions = {},
): Promise<RunningApp> {
  @Module({})
  class TestAppModule {}
  const adapter = platform === "fastify" ? new FastifyAdapter(fastify) : new ExpressAdapter();
  const app = await NestFactory.create({ module: TestAppModule, ...definition }, adapter, {
    logger: false,
    ...nest,
  });
  await setup?.(app);
  await app.listen(port, "127.0.0.1");
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** A free TCP port on 127.0.0.1 (for apps whose `baseURL` must name their port before they listen). */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

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

export interface RawAnswer {
  status: number;
  /** Lower-case name → every value, in order. */
  headers: Record<string, string[]>;
  body: string;
}

/** A request over `node:http` with headers as given (duplicates kept, none added but Host). */
export function rawRequest(
  url: string,
  options: { method?: string; path?: string; headers?: string[]; body?: string | Buffer },
): Promise<RawAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
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
        res.on("end", () => {
          const all: Record<string, string[]> = {};
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = (res.rawHeaders[i] as string).toLowerCase();
            all[name] = [...(all[name] ?? []), res.rawHeaders[i + 1] as string];
          }
          resolve({ status: res.statusCode ?? 0, headers: all, body: Buffer.concat(chunks).toString("utf8") });
        });
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
  const m = message as { result?: { content?: { text?: string }[] } };
  const text = m.result?.content?.[0]?.text;
  if (typeof text !== "string") throw new Error(`not a tool result: ${JSON.stringify(message)}`);
  return JSON.parse(text) as unknown;
}

/** The exact 401 challenge of this test server (no credentials). */
export const NO_CREDENTIALS_CHALLENGE = `Bearer scope="openid", resource_metadata="${PRM}"`;

/**
 * Writes a request head (and optionally the start of a body) over a raw socket and reads what the
 * server answers until it closes the connection: for requests the server must answer before their
 * body arrives (over-the-limit Content-Length), which `fetch` would still try to upload.
 */
export function socketExchange(url: string, head: Array<string | false>, body = ""): Promise<RawAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(target.port), target.hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const data = Buffer.concat(chunks).toString("utf8");
      const end = data.indexOf("\r\n\r\n");
      const [statusLine, ...lines] = data.slice(0, end).split("\r\n");
      const headers: Record<string, string[]> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim().toLowerCase();
        headers[name] = [...(headers[name] ?? []), line.slice(colon + 1).trim()];
      }
      resolve({ status: Number(statusLine?.split(" ")[1]), headers, body: data.slice(end + 4) });
    });
    socket.write(`${head.filter((line) => line !== false).join("\r\n")}\r\n\r\n${body}`);
  });
}
