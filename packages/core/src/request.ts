import { InvalidRequestError, UnauthorizedError } from "./errors.js";

/** What the core needs from an incoming request, whatever the framework. */
export interface AuthenticateInput {
  /** Every `Authorization` header value received (Node: `req.headersDistinct.authorization`). */
  authorization: string | readonly string[] | null | undefined;
  /** The request URL (absolute or path + query), to refuse tokens in the query string. */
  url?: string | undefined;
}

/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const QUERY_TOKEN_PARAMS = ["access_token"];

/**
 * Reads the bearer token from exactly one `Authorization: Bearer <token>` header. The scheme is
 * case-insensitive and may be followed by one or more spaces; anything else is refused:
 * no header → 401 without error; a foreign scheme → 401 without error; two headers, an empty or
 * malformed token, tabs, control or non-ASCII characters, or a token in the query string → 400.
 */
export function extractBearerToken(input: AuthenticateInput): string {
  if (input.url && hasQueryToken(input.url)) {
    throw new InvalidRequestError("Access tokens are not accepted in the query string; use the Authorization header");
  }
  const raw = input.authorization;
  const values = raw === null || raw === undefined ? [] : typeof raw === "string" ? [raw] : [...raw];
  if (values.length === 0) throw new UnauthorizedError();
  if (values.length > 1) throw new InvalidRequestError("Send exactly one Authorization header");
  const header = values[0] as string;
  const match = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: +([\s\S]*))?$/.exec(header.replace(/^ +| +$/g, ""));
  if (!match) {
    if (header.trim() === "") throw new UnauthorizedError();
    throw new InvalidRequestError("The Authorization header is malformed");
  }
  const scheme = match[1] as string;
  const credentials = match[2];
  if (scheme.toLowerCase() !== "bearer") {
    throw new UnauthorizedError(`The ${scheme.slice(0, 20)} authentication scheme is not supported; use Bearer`);
  }
  if (credentials === undefined || credentials.length === 0) throw new InvalidRequestError("The Bearer token is empty");
  if (!B64TOKEN.test(credentials)) {
    throw new InvalidRequestError("The Authorization header must hold exactly one Bearer token");
  }
  return credentials;
}

function hasQueryToken(url: string): boolean {
  const q = url.indexOf("?");
  if (q < 0) return false;
  const params = new URLSearchParams(url.slice(q + 1).split("#")[0]);
  return QUERY_TOKEN_PARAMS.some((p) => params.has(p));
}
