import { decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify } from "jose";
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

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Verifies a Descope access token: shape and size first (no crypto work for junk), then the
 * header (pinned algorithm, a `kid`, no `crit`), then signature, `exp`/`nbf`/`iat` with tolerance,
 * audience, and the issuer family. Returns the verified payload.
 */
export async function verifyAccessToken(token: string, keys: KeyStore, policy: VerifyPolicy): Promise<JWTPayload> {
  if (typeof token !== "string" || token.length === 0) throw new InvalidTokenError("The access token is empty");
  if (token.length > policy.maxTokenLength) {
    throw new InvalidTokenError(`The access token is larger than ${policy.maxTokenLength} characters`);
  }
  if (!COMPACT_JWS.test(token)) throw new InvalidTokenError("The access token is not a compact JWT");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new InvalidTokenError("The access token header is malformed");
  }
  if (typeof header.alg !== "string" || !policy.algorithms.includes(header.alg)) {
    throw new InvalidTokenError("The access token is signed with an algorithm this server does not accept");
  }
  if (header.crit !== undefined)
    throw new InvalidTokenError("The access token has critical header parameters this server does not understand");
  if (typeof header.kid !== "string" || header.kid.length === 0)
    throw new InvalidTokenError("The access token has no key ID (kid)");

  const nowMs = policy.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys.resolve, {
      algorithms: [...policy.algorithms],
      audience: [...policy.audience],
      clockTolerance: policy.clockToleranceSeconds,
      requiredClaims: ["exp", "sub", "iss"],
      currentDate: new Date(nowMs),
    }));
  } catch (error) {
    throw mapJoseError(error);
  }
  const nowSeconds = nowMs / 1000;
  if (typeof payload.iat === "number" && payload.iat > nowSeconds + policy.clockToleranceSeconds) {
    throw new InvalidTokenError("The access token was issued in the future (iat)");
  }
  if (typeof payload.sub !== "string" || payload.sub.length === 0) {
    throw new InvalidTokenError("The access token has no subject (sub)");
  }
  if (!policy.isAcceptedIssuer(payload.iss)) {
    throw new InvalidTokenError("The access token was issued by an issuer this server does not trust");
  }
  return payload;
}

const CLAIM_NAMES: Record<string, string> = {
  exp: "expiry (exp)",
  sub: "subject (sub)",
  iss: "issuer (iss)",
};

function claimMessage(claim: string, reason: string): string {
  if (claim === "aud") return "The access token was not issued for this resource (audience mismatch)";
  if (claim === "nbf" && reason === "check_failed") return "The access token is not valid yet (nbf)";
  if (reason === "missing") return `The access token has no ${CLAIM_NAMES[claim] ?? `${claim} claim`}`;
  return `The access token's ${claim} claim is invalid`;
}

/** Maps jose failures by their stable `code` (never by message text). */
export function mapJoseError(error: unknown): DescopeMcpError {
  if (error instanceof DescopeMcpError) return error;
  if (error instanceof joseErrors.JWTExpired) {
    const exp = typeof error.payload?.exp === "number" ? new Date(error.payload.exp * 1000) : undefined;
    return new TokenExpiredError("The access token expired", exp);
  }
  if (error instanceof joseErrors.JOSEError) {
    switch (error.code) {
      case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
        const { claim, reason } = error as InstanceType<typeof joseErrors.JWTClaimValidationFailed>;
        return new InvalidTokenError(claimMessage(claim, reason));
      }
      case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
        return new InvalidTokenError("The access token signature is invalid");
      case "ERR_JOSE_ALG_NOT_ALLOWED":
        return new InvalidTokenError("The access token is signed with an algorithm this server does not accept");
      case "ERR_JWKS_NO_MATCHING_KEY":
      case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
        return new InvalidTokenError("The access token was signed by a key this issuer does not publish");
      default:
        return new InvalidTokenError("The access token is malformed");
    }
  }
  return new InvalidTokenError("The access token could not be verified");
}
