import { compactVerify, decodeJwt, errors as joseErrors } from "jose";
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

/** The JWS algorithms the verifier supports (asymmetric only; RFC 7518 §3, RFC 8037). */
export const JWS_ALGORITHMS = [
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
] as const;
const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set(JWS_ALGORITHMS);

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

/**
 * Whether `text.slice(start)`, already known to hold only base64url characters, is canonical: a
 * non-empty length that is not 1 (mod 4), and no bits set in the last character beyond the encoded
 * bytes. O(1): nothing is decoded.
 */
function isCanonicalBase64url(text: string, start: number): boolean {
  const length = text.length - start;
  const tail = length % 4;
  if (length === 0 || tail === 1) return false;
  if (tail === 0) return true;
  const last = BASE64URL[text.charCodeAt(text.length - 1)] as number;
  return (last & (tail === 2 ? 0x0f : 0x03)) === 0;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A base64url segment holding a JSON object, or `undefined` (bad encoding, bad UTF-8, bad JSON, not an object). */
function jsonObjectSegment(token: string, start: number, end: number): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(token, start, end);
  return bytes === undefined ? undefined : jsonObject(bytes);
}

/** Accepted headers by their encoded form: every token a key signs carries the same header segment. */
const acceptedHeaders = new Map<string, { alg: string; kid: string; policy: VerifyPolicy }>();
const MAX_ACCEPTED_HEADERS = 256;

/**
 * The header's `alg` and `kid` if this policy accepts it: a JSON object (strict base64url, UTF-8),
 * an algorithm it pins, no `crit`, a non-empty `kid`. A header segment already accepted under this
 * policy is not decoded again (bounded; one entry per signing key in practice).
 */
function acceptedHeader(segment: string, policy: VerifyPolicy): { alg: string; kid: string } {
  const known = acceptedHeaders.get(segment);
  if (known !== undefined && known.policy === policy) return known;
  const header = jsonObjectSegment(segment, 0, segment.length);
  if (header === undefined) throw new InvalidTokenError("The access token header is malformed");
  const { alg, kid } = header;
  if (typeof alg !== "string" || !policy.algorithms.includes(alg) || !SUPPORTED_ALGORITHMS.has(alg)) {
    throw new InvalidTokenError("The access token is signed with an algorithm this server does not accept");
  }
  if (header.crit !== undefined)
    throw new InvalidTokenError("The access token has critical header parameters this server does not understand");
  if (typeof kid !== "string" || kid.length === 0) throw new InvalidTokenError("The access token has no key ID (kid)");
  if (acceptedHeaders.size >= MAX_ACCEPTED_HEADERS) acceptedHeaders.clear();
  const accepted = { alg, kid, policy };
  acceptedHeaders.set(segment, accepted);
  return accepted;
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
export async function verifyAccessToken<T = VerifiedClaims>(
  token: string,
  keys: KeyStore,
  policy: VerifyPolicy,
  deadline = Number.POSITIVE_INFINITY,
  build?: (claims: VerifiedClaims) => T,
): Promise<T> {
  if (typeof token !== "string" || token.length === 0) throw new InvalidTokenError("The access token is empty");
  if (token.length > policy.maxTokenLength) {
    throw new InvalidTokenError(`The access token is larger than ${policy.maxTokenLength} characters`);
  }
  // Three segments, header and payload non-empty. The header is decoded strictly below and the
  // signature's alphabet is checked here; the payload's bytes are covered by the signature.
  const headerEnd = token.indexOf(".");
  const payloadEnd = headerEnd < 1 ? -1 : token.indexOf(".", headerEnd + 1);
  if (payloadEnd < 0 || payloadEnd === headerEnd + 1)
    throw new InvalidTokenError("The access token is not a compact JWT");
  for (let i = payloadEnd + 1; i < token.length; i++) {
    if ((BASE64URL[token.charCodeAt(i)] ?? -1) < 0)
      throw new InvalidTokenError("The access token is not a compact JWT");
  }
  const { alg, kid } = acceptedHeader(token.slice(0, headerEnd), policy);
  // jose decodes base64url leniently; a signature with padding bits set would give one token two
  // spellings (and two cache entries), so only the canonical one is accepted.
  if (!isCanonicalBase64url(token, payloadEnd + 1))
    throw new InvalidTokenError("The access token signature is invalid");

  let key: CryptoKey;
  try {
    key = keys.readyKey(alg, kid) ?? (await keys.keyFor(alg, kid, deadline));
  } catch (error) {
    throw mapJoseError(error);
  }
  // jose checks the signature (the key was selected and imported for exactly this `alg`, one of the
  // pinned algorithms, and jose checks that it fits). The check runs on a crypto thread; meanwhile the
  // claims are decoded (by jose) and checked, and `build` runs, so their cost overlaps the signature
  // check. Nothing of it is released unless the signature verifies: a forged token gets the signature
  // error whatever its claims say.
  const signature = compactVerify(token, key).then(
    () => undefined,
    (error: unknown) => {
      throw mapJoseError(error);
    },
  );
  signature.catch(() => undefined); // awaited below; the rejection must not count as unhandled meanwhile
  await afterCryptoStarted();
  let result: T | undefined;
  let failure: unknown;
  try {
    const claims = checkClaims(decodedClaims(token), policy);
    result = build ? build(claims) : (claims as T);
  } catch (error) {
    failure = error;
  }
  await signature;
  if (failure !== undefined) throw failure;
  return result as T;
}

/**
 * Resolves once jose has handed the signature check to the crypto thread (its own awaits come
 * first): a macrotask where the runtime has one, so the work after it runs while the thread verifies.
 */
const afterCryptoStarted: () => Promise<void> =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === "function"
    ? () =>
        new Promise<void>((resolve) =>
          (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(resolve),
        )
    : () => Promise.resolve();

/** The claims, decoded by jose (`decodeJwt`: base64url, JSON, an object); a typed error otherwise. */
function decodedClaims(token: string): Record<string, unknown> {
  try {
    return decodeJwt(token) as Record<string, unknown>;
  } catch {
    throw new InvalidTokenError("The access token is malformed");
  }
}

/** The claim checks, after the signature: what jose's `jwtVerify` checks, plus Descope's rules. */
function checkClaims(claims: Record<string, unknown>, policy: VerifyPolicy): VerifiedClaims {
  // Every refusal carries the token's audience and issuer for diagnosis (never the token).
  const refuse = (message: string) => new InvalidTokenError(message, { claims });
  const expected = policy.audience.length === 1 ? policy.audience[0] : `one of ${policy.audience.join(", ")}`;
  const wrongAudience = `The access token was not issued for this resource (audience mismatch): it must be issued for ${expected}`;
  for (const claim of ["aud", "iss", "sub", "exp"] as const) {
    if (!Object.hasOwn(claims, claim)) throw refuse(claim === "aud" ? wrongAudience : claimMessage(claim, "missing"));
  }
  const { aud } = claims;
  const audienceOk =
    typeof aud === "string"
      ? policy.audience.includes(aud)
      : Array.isArray(aud) && policy.audience.some((a) => aud.includes(a));
  if (!audienceOk) throw refuse(wrongAudience);

  const nowMs = policy.now();
  const now = Math.floor(nowMs / 1000);
  const tolerance = policy.clockToleranceSeconds;
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== "number") throw refuse(claimMessage("iat", "invalid"));
  if (nbf !== undefined) {
    if (typeof nbf !== "number") throw refuse(claimMessage("nbf", "invalid"));
    if (nbf > now + tolerance) throw refuse(claimMessage("nbf", "check_failed"));
  }
  if (typeof exp !== "number") throw refuse(claimMessage("exp", "invalid"));
  if (exp <= now - tolerance) {
    throw new TokenExpiredError("The access token expired", new Date(exp * 1000), { claims });
  }
  if (typeof iat === "number" && iat > nowMs / 1000 + tolerance) {
    throw refuse("The access token was issued in the future (iat)");
  }
  if (typeof claims.sub !== "string" || claims.sub.length === 0) {
    throw refuse("The access token has no subject (sub)");
  }
  if (!policy.isAcceptedIssuer(claims.iss)) {
    throw refuse("The access token was issued by an issuer this server does not trust");
  }
  return claims as VerifiedClaims;
}

const CLAIM_NAMES: Record<string, string> = {
  exp: "expiry (exp)",
  sub: "subject (sub)",
  iss: "issuer (iss)",
};

function claimMessage(claim: string, reason: "missing" | "invalid" | "check_failed"): string {
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
