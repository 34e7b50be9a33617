import type { IncomingMessage, ServerResponse } from "node:http";
import type { RecordedRequest } from "./types.js";

/** A request as the handlers see it: already read, parsed and recorded. */
export interface EmulatorRequest {
  method: string;
  url: URL;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  rawBody: string;
  body: unknown;
  contentType: string;
}

/** What a handler answers; `undefined` means "not mine". */
export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings verbatim. */
  body?: unknown;
}

export const MAX_BODY_BYTES = 1024 * 1024;

export async function readRequest(req: IncomingMessage, baseURL: string): Promise<EmulatorRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buf);
  }
  const rawBody = Buffer.concat(chunks).toString("utf8");
  const url = new URL(req.url ?? "/", baseURL);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  const contentType = (headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return {
    method: (req.method ?? "GET").toUpperCase(),
    url,
    path: url.pathname,
    query: url.searchParams,
    headers,
    rawBody,
    body: parseBody(rawBody, contentType),
    contentType,
  };
}

function parseBody(raw: string, contentType: string): unknown {
  if (raw.length === 0) return undefined;
  if (contentType === "application/x-www-form-urlencoded") {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export function toRecorded(r: EmulatorRequest, at: number): RecordedRequest {
  return {
    method: r.method,
    path: r.path,
    query: Object.fromEntries(r.query),
    headers: { ...r.headers },
    body: r.body,
    at,
  };
}

export function send(res: ServerResponse, out: EmulatorResponse, head = false): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { ...out.headers };
  let payload: string | undefined;
  if (typeof out.body === "string") payload = out.body;
  else if (out.body !== undefined) {
    payload = JSON.stringify(out.body);
    headers["content-type"] ??= "application/json";
  }
  if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
  res.writeHead(out.status, headers);
  res.end(head ? undefined : payload);
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): EmulatorResponse => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});

/** Descope's own error body shape (management and outbound APIs). */
export function descopeError(
  status: number,
  errorDescription: string,
  errorMessage = errorDescription,
): EmulatorResponse {
  const codes: Record<number, string> = {
    400: "E011001",
    401: "E011003",
    403: "E011004",
    404: "E011005",
    405: "E011006",
  };
  return json(status, { errorCode: codes[status] ?? "E010000", errorDescription, errorMessage });
}

/** An RFC 6749 / 7591 OAuth error body. */
export const oauthError = (
  status: number,
  error: string,
  error_description: string,
  headers?: Record<string, string>,
): EmulatorResponse => json(status, { error, error_description }, headers);

/** Parses `Authorization: Bearer <projectId>:<secret>`; `undefined` when absent or malformed. */
export function parseProjectBearer(header: string | undefined): { projectId: string; secret: string } | undefined {
  if (!header) return undefined;
  const match = /^Bearer ([^:\s]+):(\S+)$/.exec(header);
  if (!match) return undefined;
  return { projectId: match[1] as string, secret: match[2] as string };
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const isAbsoluteURL = (v: unknown): v is string => {
  if (typeof v !== "string") return false;
  try {
    const u = new URL(v);
    return u.protocol.length > 1 && !v.includes("#");
  } catch {
    return false;
  }
};
