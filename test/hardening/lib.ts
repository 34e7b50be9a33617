// Shared helpers of the hardening suites: a strict RFC 6750 challenge parser, header-safety checks,
// the list of built examples, and an HTTP client that can send what `fetch` refuses to.
import http from "node:http";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAnswer } from "./answers.mjs";
import { examples } from "./examples.mjs";
import { parseRawResponse } from "./raw.js";

export { parseRawResponse };

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Every example that has been built (`examples/<framework>/dist/server.js`): new examples join automatically. */
export const EXAMPLES: string[] = examples();

export const ACCEPT = "application/json, text/event-stream";

/** True when every character is printable ASCII (what a header value may safely carry). */
export function isHeaderSafe(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}

export interface ParsedChallenge {
  scheme: string;
  /** Parameters in order, values unescaped. */
  params: Array<[string, string]>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parses a `WWW-Authenticate` value strictly: `<scheme> name="value"(, name="value")*`, every value a
 * quoted-string whose only escapes are `\"` and `\\`, printable ASCII only. Anything else (an unescaped
 * quote, a control character, a stray comma, a bare value) makes it return `undefined`.
 */
export function parseChallenge(header: string): ParsedChallenge | undefined {
  if (!isHeaderSafe(header)) return undefined;
  const scheme = TOKEN.exec(header)?.[0];
  if (!scheme) return undefined;
  let rest = header.slice(scheme.length);
  const params: Array<[string, string]> = [];
  if (rest === "") return { scheme, params };
  if (!rest.startsWith(" ")) return undefined;
  rest = rest.slice(1);
  for (;;) {
    const name = TOKEN.exec(rest)?.[0];
    if (!name || rest[name.length] !== "=" || rest[name.length + 1] !== '"') return undefined;
    let i = name.length + 2;
    let value = "";
    for (;;) {
      const c = rest[i];
      if (c === undefined) return undefined; // unterminated
      if (c === '"') break;
      if (c === "\\") {
        const next = rest[i + 1];
        if (next !== '"' && next !== "\\") return undefined; // we only ever escape these two
        value += next;
        i += 2;
        continue;
      }
      value += c;
      i += 1;
    }
    params.push([name, value]);
    rest = rest.slice(i + 1);
    if (rest === "") return { scheme, params };
    if (!rest.startsWith(", ")) return undefined;
    rest = rest.slice(2);
  }
}

/** What an HTTP exchange answered. */
export interface HttpAnswer {
  status: number;
  /** Lower-case header name → every value received, in order. */
  headers: Record<string, string[]>;
  body: string;
  ms: number;
}

export interface HttpRequestSpec {
  method: string;
  path: string;
  /** In order; duplicates allowed. */
  headers: Array<[string, string]>;
  body?: string | undefined;
  /**
   * Send the request head as raw bytes over a socket (for CR, LF, NUL, obs-fold or UTF-8 bytes that
   * `fetch` and `node:http` refuse to put on the wire). Header values are written as UTF-8.
   */
  raw?: boolean | undefined;
}

const REQUEST_TIMEOUT_MS = 15_000;
/**
 * A body at least this large is sent only after the server had `EARLY_ANSWER_MS` to answer from the
 * head alone (a 413 from Content-Length): a server that closes the connection with megabytes unread
 * resets it, and the reset can destroy its answer before the client reads it.
 */
const LARGE_BODY = 64 * 1024;
const EARLY_ANSWER_MS = 500;

/** Sends one request to 127.0.0.1:`port` and reads the whole answer. Always bounded by a timeout. */
export function sendHttp(port: number, spec: HttpRequestSpec): Promise<HttpAnswer> {
  return spec.raw ? sendRaw(port, spec) : sendNodeHttp(port, spec);
}

function sendNodeHttp(port: number, spec: HttpRequestSpec): Promise<HttpAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const flat: string[] = ["host", `127.0.0.1:${port}`, "connection", "close"];
    for (const [name, value] of spec.headers) flat.push(name, value);
    if (spec.body !== undefined) flat.push("content-length", String(Buffer.byteLength(spec.body)));
    const req = http.request(
      { host: "127.0.0.1", port, method: spec.method, path: spec.path, headers: flat, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const headers: Record<string, string[]> = {};
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = (res.rawHeaders[i] as string).toLowerCase();
            headers[name] = [...(headers[name] ?? []), res.rawHeaders[i + 1] as string];
          }
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString("utf8"),
            ms: performance.now() - started,
          });
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    let answered = false;
    req.once("response", () => (answered = true));
    // Once the answer is in, a reset while the rest of a large body is still being written is fine.
    req.on("error", (error) => (answered ? undefined : reject(error)));
    if (spec.body === undefined || Buffer.byteLength(spec.body) < LARGE_BODY) return req.end(spec.body);
    req.flushHeaders();
    setTimeout(() => {
      if (!answered) req.end(spec.body);
    }, EARLY_ANSWER_MS);
  });
}

function sendRaw(port: number, spec: HttpRequestSpec): Promise<HttpAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.from(spec.body, "utf8");
    const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close"];
    for (const [name, value] of spec.headers) lines.push(`${name}: ${value}`);
    lines.push(`Content-Length: ${body.length}`);
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    socket.on("data", (c: Buffer) => chunks.push(c));
    // A server that answers early (431, 400) may reset the connection while we still write: keep its answer.
    socket.on("error", (error) => {
      if (chunks.length === 0) reject(error);
    });
    socket.on("close", () => {
      if (chunks.length === 0) return reject(new Error("the server closed the connection without an answer"));
      try {
        resolve({ ...parseRawResponse(Buffer.concat(chunks)), ms: performance.now() - started });
      } catch (error) {
        reject(error);
      }
    });
    const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "utf8");
    if (body.length < LARGE_BODY) return void socket.write(Buffer.concat([head, body]));
    // A large body goes after the server had EARLY_ANSWER_MS to answer from the head (a 413 from the
    // Content-Length): sent at once, the server's close resets the connection while the body is still
    // arriving, and the reset can discard its answer before we read it (EPIPE with nothing read).
    socket.write(head);
    setTimeout(() => {
      if (chunks.length === 0 && !socket.destroyed) socket.write(body);
    }, EARLY_ANSWER_MS);
  });
}

/** Parses JSON (or the JSON-RPC messages of an SSE answer, see answers.mjs), or returns `undefined`. */
export function jsonOrUndefined(text: string): unknown {
  return parseAnswer(text);
}

/** A pause; every caller bounds how often it loops. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts outcomes of a hostile corpus run and prints the one-line summary. */
export class Tally {
  cases = 0;
  acceptedWrongly: string[] = [];
  serverErrors: string[] = [];
  mismatches: string[] = [];

  constructor(readonly label: string) {}

  record(name: string, expectedStatus: number, actualStatus: number, matched: boolean): void {
    this.cases++;
    if (expectedStatus >= 300 && actualStatus >= 200 && actualStatus < 300) this.acceptedWrongly.push(name);
    if (actualStatus >= 500) this.serverErrors.push(name);
    if (!matched) this.mismatches.push(name);
  }

  line(): string {
    return `hardening${this.label ? ` (${this.label})` : ""}: ${this.cases} cases, ${this.acceptedWrongly.length} accepted wrongly, ${this.serverErrors.length} server errors`;
  }
}
