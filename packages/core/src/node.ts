/**
 * Node-only helpers shared by the Node adapters (Express, Nest, xmcp): the current request's
 * session through AsyncLocalStorage, and the Node side of the gate (reading a request's body once,
 * handing it on, writing the core's answers). Kept out of the main entry so the core stays
 * runtime-neutral.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { GateInput } from "./auth.js";
import { declaredLength } from "./body.js";
import type { AuthErrorResult } from "./challenge.js";
import { InvalidRequestError, PayloadTooLargeError } from "./errors.js";

// The session store lives in the main entry (runtime-neutral: no Node import); re-exported here for
// the Node adapters and their users.
export {
  enableSessionContext,
  getSession,
  requireSession,
  runWithSession,
  type SessionSource,
} from "./session-store.js";

/** A Node request as the body helpers see it: body parsers put their result on `body` (`_body`: Express 4's "parsed" flag). */
export type NodeRequest = IncomingMessage & {
  /** What a body parser produced (or, after {@link handOverBody}, the body the gate judged). */
  body?: unknown;
  /** `true` once a body parser (Express 4's, or {@link handOverBody}) has consumed the body. */
  _body?: unknown;
};

/** Options of {@link readNodeBody}. */
export interface ReadNodeBodyOptions {
  /**
   * Watch the bytes go by while someone else reads the stream (a framework's own body parser), rather
   * than read it: the stream is neither paused nor taken away from that reader, which gets every byte
   * this promise gets. Default `false`: the gate is the reader, and stops reading past `limit`.
   */
  observe?: boolean;
}

/**
 * Reads a Node request's body for the gate, once, up to `limit` bytes. When a body parser mounted
 * before the gate has already consumed the stream, what it produced is returned instead (the gate
 * then hands the same value on). A request whose body cannot be read whole — aborted, reset, cut
 * short, or its stream consumed with nothing to show for it — is refused with `InvalidRequestError`;
 * a body over `limit` with `PayloadTooLargeError`: at once when its `Content-Length` says so, else as
 * soon as it crosses the limit.
 */
export function readNodeBody(req: NodeRequest, limit: number, options: ReadNodeBodyOptions = {}): Promise<unknown> {
  if (req.readableEnded || req._body === true) {
    if (req.body === undefined) {
      return Promise.reject(
        new InvalidRequestError("The request body was consumed before the authorization gate could read it"),
      );
    }
    return Promise.resolve(req.body);
  }
  if (req.destroyed) return Promise.reject(aborted());
  // A body announced over the limit is refused at once: nothing is read, nothing is waited for.
  const declared = declaredLength(req.headers?.["content-length"]);
  if (declared !== undefined && declared > limit) {
    return Promise.reject(new PayloadTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (error: unknown, value?: Uint8Array) => {
      if (settled) return;
      settled = true;
      // After its end a stream emits no more data: the listeners stay (settled, they do nothing) rather
      // than cost four removals on every request. A refusal detaches them, as the stream goes on.
      if (error) {
        req.off("data", onData);
        req.off("end", onEnd);
        req.off("error", onFailure);
        req.off("close", onFailure);
        reject(error);
      } else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += bytes.byteLength;
      if (size > limit) {
        if (!options.observe) req.pause();
        settle(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(bytes);
    };
    // `complete` is false when the connection ended before the message did (Content-Length not met).
    // A stream that is no socket's message (a test injector's) has no `complete`: its end is the end.
    const onEnd = () => (req.complete === false ? settle(aborted()) : settle(undefined, Buffer.concat(chunks, size)));
    const onFailure = () => settle(aborted());
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onFailure);
    req.on("close", onFailure);
  });
}

function aborted(): InvalidRequestError {
  return new InvalidRequestError("The request body could not be read completely (the client aborted or reset it)");
}

/**
 * What the core's `gate` needs from a Node request: method, every `Authorization` value, the URL
 * (for the query-token check), the body headers and a reader for the body (`readNodeBody` unless
 * the framework has its own, e.g. Fastify's parsed body). `overrides.url` replaces `req.url` (e.g.
 * Express's `req.originalUrl` inside a router); `overrides.readBody` replaces the reader.
 */
export function gateInputFromNode(
  req: NodeRequest,
  overrides: { url?: string; readBody?: (limit: number) => Promise<unknown> } = {},
): GateInput {
  const h = req.headers;
  return {
    method: req.method ?? "",
    url: overrides.url ?? req.url ?? "",
    authorization: authorizationOf(req),
    bodyHeaders: {
      contentType: h["content-type"],
      contentEncoding: h["content-encoding"],
      contentLength: h["content-length"],
    },
    readBody: overrides.readBody ?? ((limit) => readNodeBody(req, limit)),
  };
}

/**
 * Every `Authorization` value the request carried (one string when there is one), from the raw
 * header list: Node's `headers` keeps only the first of repeated `Authorization` headers, and
 * `headersDistinct` builds a list for every header of the request to answer for this one.
 */
function authorizationOf(req: NodeRequest): string | string[] | undefined {
  const raw = req.rawHeaders;
  if (!Array.isArray(raw)) return req.headersDistinct?.authorization ?? req.headers?.authorization;
  let first: string | undefined;
  let all: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 13 || name.toLowerCase() !== "authorization") continue;
    const value = raw[i + 1] as string;
    if (first === undefined) first = value;
    else if (all === undefined) all = [first, value];
    else all.push(value);
  }
  return all ?? first;
}

/**
 * Hands the body the gate judged to what runs next: `req.body` becomes exactly that value, and the
 * request counts as parsed for body parsers mounted later (Express 4 looks at `_body`, Express 5 at
 * the consumed stream), so none of them reads or replaces it.
 */
export function handOverBody(req: NodeRequest, body: unknown): void {
  if (body === undefined) return;
  req.body = body;
  req._body = true;
}

/** Writes one of the core's answers (`AuthErrorResult`) verbatim. A 413 also closes the connection (the rest of the body is never read). */
export function writeResult(res: ServerResponse, result: AuthErrorResult): void {
  res.statusCode = result.status;
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  if (result.status === 413) res.setHeader("connection", "close");
  res.end(result.body);
}
