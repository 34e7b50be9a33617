import { InvalidRequestError, UnauthorizedError } from "./errors.js";

/** What the core needs from an incoming request, whatever the framework. */
export interface AuthenticateInput {
  /** Every `Authorization` header value received (Node: `req.headersDistinct.authorization`). */
  authorization: string | readonly string[] | null | undefined;
  /** The request URL (absolute or path + query), to refuse tokens in the query string. */
  url?: string | undefined;
  /**
   * The HTTP method. With `toolScopes` configured, the body of a POST (or of a request whose method
   * is not given) must be judged before the request is allowed.
   */
  method?: string | undefined;
}

/** RFC 7230 tchar, by character code. */
const TCHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+.^_`|~-")
  TCHAR[c.charCodeAt(0)] = 1;
const isTchar = (code: number) => code < 128 && TCHAR[code] === 1;
const isAlpha = (code: number) => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);

const isOws = (code: number) => code === 0x20 || code === 0x09;

/**
 * The value without leading and trailing optional whitespace (SP, HTAB: RFC 9110 §5.5), in one pass
 * from each end. HTTP layers should strip it, but not all do (workerd keeps a trailing tab).
 */
function trimSpaces(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
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
  const credentials = bearerCredentials(input);
  checkBearerToken(credentials);
  return credentials;
}

/**
 * {@link extractBearerToken} up to the token's own syntax: the one header, its scheme and the
 * credentials after it. The gate checks the syntax ({@link checkBearerToken}) only for a token it has
 * not verified before: a token equal to one that passed every check cannot fail this one.
 */
export function bearerCredentials(input: AuthenticateInput): string {
  if (input.url && hasQueryToken(input.url)) {
    throw new InvalidRequestError("Access tokens are not accepted in the query string; use the Authorization header");
  }
  const raw = input.authorization;
  let value: string;
  if (typeof raw === "string") value = raw;
  else {
    const values = raw === null || raw === undefined ? [] : [...raw];
    if (values.length === 0) throw new UnauthorizedError();
    if (values.length > 1) throw new InvalidRequestError("Send exactly one Authorization header");
    value = values[0] as string;
  }
  const header = trimSpaces(value);
  if (header === "") throw new UnauthorizedError();
  // Every step below is one pass over the header (no backtracking): an attacker's 16 KiB of spaces
  // costs what 16 KiB of token costs.
  let end = 0;
  while (end < header.length && isTchar(header.charCodeAt(end))) end++;
  if (end === 0 || !isAlpha(header.charCodeAt(0)) || (end < header.length && header.charCodeAt(end) !== 0x20)) {
    if (header.trim() === "") throw new UnauthorizedError();
    throw new InvalidRequestError("The Authorization header is malformed");
  }
  const scheme = header.slice(0, end);
  let start = end;
  while (start < header.length && header.charCodeAt(start) === 0x20) start++;
  const credentials = start === end ? undefined : header.slice(start);
  if (scheme !== "Bearer" && scheme.toLowerCase() !== "bearer") {
    throw new UnauthorizedError(`The ${scheme.slice(0, 20)} authentication scheme is not supported; use Bearer`);
  }
  if (credentials === undefined || credentials.length === 0) throw new InvalidRequestError("The Bearer token is empty");
  return credentials;
}

/** Throws `InvalidRequestError` unless `credentials` is one RFC 6750 b64token (no spaces, no second token). */
export function checkBearerToken(credentials: string): void {
  if (!B64TOKEN.test(credentials)) {
    throw new InvalidRequestError("The Authorization header must hold exactly one Bearer token");
  }
}

function hasQueryToken(url: string): boolean {
  const q = url.indexOf("?");
  if (q < 0) return false;
  const params = new URLSearchParams(url.slice(q + 1).split("#")[0]);
  return QUERY_TOKEN_PARAMS.some((p) => params.has(p));
}
