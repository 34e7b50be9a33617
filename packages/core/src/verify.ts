import { compactVerify, errors as joseErrors } from "jose";
import { DescopeMcpError, InvalidTokenError, TokenExpiredError } from "./errors.js";
import type { KeyStore } from "./keys.js";

export interface VerifyPolicy {
  algorithms: readonly string[];
  audience: readonly string[];
  clockToleranceSeconds: number;
  maxTokenLength: number;
  isAcceptedIssuer: (iss: unknown) => boolean;
  now: () => number;
}

/** The verified claims of an access token (a plain object parsed from the token's payload). */
export type VerifiedClaims = Record<string, unknown> & { exp: number; sub: string; iss: string };

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The JWS algorithms the verifier supports (asymmetric only; RFC 7518 §3, RFC 8037). */
const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);

const BASE64URL = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  BASE64URL["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".charCodeAt(i)] = i;
}

/**
 * Strict, canonical base64url (RFC 7515 §2: no padding, no whitespace): characters outside the
 * alphabet, an impossible length and non-zero padding bits are refused, so a token has exactly one
 * valid spelling. Returns `undefined` for anything else.
 */
export function decodeBase64url(text: string, start = 0, end = text.length): Uint8Array<ArrayBuffer> | undefined {
  const length = end - start;
  const tail = length % 4;
  if (tail === 1) return undefined;
  const out = new Uint8Array(((length * 3) >> 2) | 0);
  let o = 0;
  let i = start;
  const full = end - tail;
  for (; i < full; i += 4) {
    const a = BASE64URL[text.charCodeAt(i)] ?? -1;
    const b = BASE64URL[text.charCodeAt(i + 1)] ?? -1;
    const c = BASE64URL[text.charCodeAt(i + 2)] ?? -1;
    const d = BASE64URL[text.charCodeAt(i + 3)] ?? -1;
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (tail === 2) {
    const a = BASE64URL[text.charCodeAt(i)] ?? -1;
    const b = BASE64URL[text.charCodeAt(i + 1)] ?? -1;
    if ((a | b) < 0 || (b & 0x0f) !== 0) return undefined;
    out[o++] = (a << 2) | (b >> 4);
  } else if (tail === 3) {
    const a = BASE64URL[text.charCodeAt(i)] ?? -1;
    const b = BASE64URL[text.charCodeAt(i + 1)] ?? -1;
    const c = BASE64URL[text.charCodeAt(i + 2)] ?? -1;
    if ((a | b | c) < 0 || (c & 0x03) !== 0) return undefined;
    const n = (a << 10) | (b << 4) | (c >> 2);
    out[o++] = n >> 8;
    out[o++] = n & 0xff;
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A base64url segment holding a JSON object, or `undefined` (bad encoding, bad UTF-8, bad JSON, not an object). */
function jsonObjectSegment(token: string, start: number, end: number): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(token, start, end);
  return bytes === undefined ? undefined : jsonObject(bytes);
}

/** Bytes holding a JSON object, or `undefined` (bad UTF-8, bad JSON, not an object). */
function jsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * Verifies a Descope access token and returns its claims. The order is chosen so that junk costs
 * nothing: size and shape, then the header (pinned algorithm, a `kid`, no `crit`) and a canonical
 * signature encoding before any key lookup; then the signature, checked by jose (`compactVerify`)
 * with the issuer's key (selected and imported once by jose, see `KeyStore`); then the claims: `aud`,
 * `iss`, `sub` and `exp` present, audience, `nbf`/`exp` with tolerance, `iat` not in the future, a
 * non-empty subject, and the issuer family. Upstream work must finish by `deadline` (ms, real time).
 * Every failure is a typed error.
 */
export async function verifyAccessToken(
  token: string,
  keys: KeyStore,
  policy: VerifyPolicy,
  deadline = Number.POSITIVE_INFINITY,
): Promise<VerifiedClaims> {
  if (typeof token !== "string" || token.length === 0) throw new InvalidTokenError("The access token is empty");
  if (token.length > policy.maxTokenLength) {
    throw new InvalidTokenError(`The access token is larger than ${policy.maxTokenLength} characters`);
  }
  if (!COMPACT_JWS.test(token)) throw new InvalidTokenError("The access token is not a compact JWT");
  const headerEnd = token.indexOf(".");
  const payloadEnd = token.indexOf(".", headerEnd + 1);

  const header = jsonObjectSegment(token, 0, headerEnd);
  if (header === undefined) throw new InvalidTokenError("The access token header is malformed");
  const { alg, kid } = header;
  if (typeof alg !== "string" || !policy.algorithms.includes(alg) || !SUPPORTED_ALGORITHMS.has(alg)) {
    throw new InvalidTokenError("The access token is signed with an algorithm this server does not accept");
  }
  if (header.crit !== undefined)
    throw new InvalidTokenError("The access token has critical header parameters this server does not understand");
  if (typeof kid !== "string" || kid.length === 0) throw new InvalidTokenError("The access token has no key ID (kid)");
  // jose decodes base64url leniently; a signature with padding bits set would give one token two
  // spellings (and two cache entries), so only the canonical one is accepted.
  if (payloadEnd + 1 === token.length || decodeBase64url(token, payloadEnd + 1) === undefined) {
    throw new InvalidTokenError("The access token signature is invalid");
  }

  let payload: Uint8Array;
  try {
    const key = await keys.keyFor(alg, kid, deadline);
    ({ payload } = await compactVerify(token, key, { algorithms: [alg] }));
  } catch (error) {
    throw mapJoseError(error);
  }
  const claims = jsonObject(payload);
  if (claims === undefined) throw new InvalidTokenError("The access token is malformed");
  return checkClaims(claims, policy);
}

/** The claim checks, after the signature: what jose's `jwtVerify` checks, plus Descope's rules. */
function checkClaims(claims: Record<string, unknown>, policy: VerifyPolicy): VerifiedClaims {
  for (const claim of ["aud", "iss", "sub", "exp"] as const) {
    if (!Object.hasOwn(claims, claim)) throw new InvalidTokenError(claimMessage(claim, "missing"));
  }
  const { aud } = claims;
  const audienceOk =
    typeof aud === "string"
      ? policy.audience.includes(aud)
      : Array.isArray(aud) && policy.audience.some((a) => aud.includes(a));
  if (!audienceOk) throw new InvalidTokenError(claimMessage("aud", "check_failed"));

  const nowMs = policy.now();
  const now = Math.floor(nowMs / 1000);
  const tolerance = policy.clockToleranceSeconds;
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== "number") throw new InvalidTokenError(claimMessage("iat", "invalid"));
  if (nbf !== undefined) {
    if (typeof nbf !== "number") throw new InvalidTokenError(claimMessage("nbf", "invalid"));
    if (nbf > now + tolerance) throw new InvalidTokenError(claimMessage("nbf", "check_failed"));
  }
  if (typeof exp !== "number") throw new InvalidTokenError(claimMessage("exp", "invalid"));
  if (exp <= now - tolerance) throw new TokenExpiredError("The access token expired", new Date(exp * 1000));
  if (typeof iat === "number" && iat > nowMs / 1000 + tolerance) {
    throw new InvalidTokenError("The access token was issued in the future (iat)");
  }
  if (typeof claims.sub !== "string" || claims.sub.length === 0) {
    throw new InvalidTokenError("The access token has no subject (sub)");
  }
  if (!policy.isAcceptedIssuer(claims.iss)) {
    throw new InvalidTokenError("The access token was issued by an issuer this server does not trust");
  }
  return claims as VerifiedClaims;
}

const CLAIM_NAMES: Record<string, string> = {
  exp: "expiry (exp)",
  sub: "subject (sub)",
  iss: "issuer (iss)",
};

function claimMessage(claim: string, reason: "missing" | "invalid" | "check_failed"): string {
  if (claim === "aud") return "The access token was not issued for this resource (audience mismatch)";
  if (claim === "nbf" && reason === "check_failed") return "The access token is not valid yet (nbf)";
  if (reason === "missing") return `The access token has no ${CLAIM_NAMES[claim] ?? `${claim} claim`}`;
  return `The access token's ${claim} claim is invalid`;
}

/** Maps jose failures (key selection and import) by their stable `code`, never by message text. */
export function mapJoseError(error: unknown): DescopeMcpError {
  if (error instanceof DescopeMcpError) return error;
  if (error instanceof joseErrors.JOSEError) {
    switch (error.code) {
      case "ERR_JOSE_NOT_SUPPORTED":
      case "ERR_JOSE_ALG_NOT_ALLOWED":
        return new InvalidTokenError("The access token is signed with an algorithm this server does not accept");
      case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
        return new InvalidTokenError("The access token signature is invalid");
      case "ERR_JWS_INVALID":
        return new InvalidTokenError("The access token is malformed");
      case "ERR_JWKS_NO_MATCHING_KEY":
      case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
        return new InvalidTokenError("The access token was signed by a key this issuer does not publish");
      default:
        return new InvalidTokenError("The access token could not be verified with the issuer's keys");
    }
  }
  return new InvalidTokenError("The access token could not be verified");
}
