import { PayloadTooLargeError, UpstreamUnavailableError } from "./errors.js";
import { readStreamBytes } from "./gate.js";

/** The `fetch` signature the library calls (the global `fetch`, or a replacement for tests and proxies). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface UpstreamRequest {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  /** Names the upstream in error messages ("JWKS", "discovery document", …). */
  what: string;
}

export interface UpstreamAnswer {
  status: number;
  json: unknown;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 3;

function isRedirect(response: Response): boolean {
  return response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400);
}

/** The redirect target when it is on the origin of `from`, else `undefined`. */
function sameOriginRedirect(from: string, response: Response): string | undefined {
  const location = response.headers.get("location");
  if (!location) return undefined;
  try {
    const target = new URL(location, from);
    return target.origin === new URL(from).origin ? target.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The one way the library talks to Descope: time-boxed, JSON in and out. Network failures,
 * time-outs, 5xx answers and unreadable bodies become `UpstreamUnavailableError`; other statuses are
 * returned for the caller to interpret. Error messages name the upstream and never include headers.
 */
export async function upstreamJson(fetchImpl: FetchLike, request: UpstreamRequest): Promise<UpstreamAnswer> {
  const headers: Record<string, string> = { accept: "application/json", ...request.headers };
  let body: string | undefined;
  if (request.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(request.body);
  }
  const signal = AbortSignal.timeout(request.timeoutMs);
  const method = request.method ?? "GET";
  let url = request.url;
  let response: Response;
  for (let hop = 0; ; hop++) {
    try {
      // `redirect: "manual"`: edge runtimes refuse "error", and a redirect is ours to judge (below).
      response = await fetchImpl(url, { method, headers, body, signal, redirect: "manual" });
    } catch (cause) {
      const timedOut = signal.aborted;
      throw new UpstreamUnavailableError(
        timedOut
          ? `Descope ${request.what} did not answer within ${request.timeoutMs} ms`
          : `Descope ${request.what} could not be reached`,
        5,
        { cause },
      );
    }
    if (!isRedirect(response)) break;
    const next = sameOriginRedirect(url, response);
    await response.body?.cancel().catch(() => undefined);
    // Only a GET is re-sent, only to the same origin, at most MAX_REDIRECTS times: the credentials
    // some calls carry never travel to another host.
    if (method !== "GET" || next === undefined || hop >= MAX_REDIRECTS) {
      throw new UpstreamUnavailableError(
        `Descope ${request.what} answered a redirect (HTTP ${response.status}) that is not followed`,
        5,
      );
    }
    url = next;
  }
  if (response.status >= 500) {
    await response.body?.cancel().catch(() => undefined);
    throw new UpstreamUnavailableError(`Descope ${request.what} answered HTTP ${response.status}`, 5);
  }
  let text: string;
  try {
    // Read at most MAX_BODY_BYTES: a huge answer is cut off while streaming, never held whole.
    text = new TextDecoder().decode(await readStreamBytes(response.body, MAX_BODY_BYTES));
  } catch (cause) {
    throw new UpstreamUnavailableError(
      cause instanceof PayloadTooLargeError
        ? `Descope ${request.what} answer is too large`
        : `Descope ${request.what} answer could not be read`,
      5,
      { cause },
    );
  }
  let json: unknown;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch (cause) {
      if (response.ok)
        throw new UpstreamUnavailableError(`Descope ${request.what} answered malformed JSON`, 5, { cause });
      json = undefined;
    }
  }
  return { status: response.status, json };
}

/**
 * `work`, unless it is still pending at `deadline` (ms since the epoch, real time): then an
 * `UpstreamUnavailableError` (503). The work itself goes on (it is shared: a later request may use
 * its result); only this wait is cut short. This is how one request gets one budget for all the
 * upstream work it waits for (discovery, then the JWKS), instead of one time-out per fetch.
 */
export function beforeDeadline<T>(
  work: Promise<T>,
  deadline: number,
  message = "Descope did not answer in time for this request",
): Promise<T> {
  if (deadline === Number.POSITIVE_INFINITY) return work;
  const remaining = Math.max(0, deadline - Date.now());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamUnavailableError(message, 5)), remaining);
  });
  work.catch(() => undefined); // a late failure of the shared work is someone else's to report
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
