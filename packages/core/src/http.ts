import { UpstreamUnavailableError } from "./errors.js";

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
  let response: Response;
  try {
    response = await fetchImpl(request.url, {
      method: request.method ?? "GET",
      headers,
      body,
      signal,
      redirect: "error",
    });
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
  let text: string;
  try {
    text = await response.text();
  } catch (cause) {
    throw new UpstreamUnavailableError(`Descope ${request.what} answer could not be read`, 5, { cause });
  }
  if (response.status >= 500) {
    throw new UpstreamUnavailableError(`Descope ${request.what} answered HTTP ${response.status}`, 5);
  }
  if (text.length > MAX_BODY_BYTES) {
    throw new UpstreamUnavailableError(`Descope ${request.what} answer is too large`, 5);
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
