// The token verifier on its own keys: canonical base64url, every supported algorithm, key selection
// (ambiguous, wrong-use, wrong-alg and short keys), and a differential check against jose's
// `jwtVerify` over generated headers, claims and mutations.
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { CompactSign, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDescopeMcpAuth, DescopeMcpError } from "../src/index.js";
import { decodeBase64url } from "../src/verify.js";
import { verdictOf } from "./helpers.js";

const PROJECT = "P2VerifierTestPr0ject0000001";
const RESOURCE = "https://mcp.example.com/mcp";
const b64 = (data: string | Uint8Array) => Buffer.from(data).toString("base64url");
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** A JWKS server on 127.0.0.1 whose key set a test can replace. */
let server: Server;
let jwks: { keys: JWK[] } = { keys: [] };
let jwksURL = "";
let issuer = "";
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  jwksURL = `http://127.0.0.1:${port}/${PROJECT}/.well-known/jwks.json`;
  issuer = `http://127.0.0.1:${port}/v1/apps/${PROJECT}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function engine(algorithms: string[] = ["RS256"], now?: () => number) {
  return createDescopeMcpAuth({
    issuerURL: issuer,
    jwksURL,
    baseURL: "https://mcp.example.com",
    algorithms,
    tokenCache: false,
    ...(now ? { now } : {}),
  });
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer, sub: "U1", aud: RESOURCE, iat: now, exp: now + 600, ...extra };
}

async function keyPair(alg: string, kid: string, jwkExtra: Partial<JWK> = {}) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig", ...jwkExtra };
  const signToken = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new CompactSign(json(payload)).setProtectedHeader({ alg, kid, typ: "JWT", ...header }).sign(privateKey);
  return { privateKey, publicJwk, signToken };
}

describe("decodeBase64url", () => {
  it("decodes what Buffer encodes, for any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(decodeBase64url(b64(bytes))).toEqual(new Uint8Array(bytes));
      }),
      { numRuns: 2000, seed: 20261129 },
    );
  });

  it("refuses non-canonical spellings, impossible lengths and characters outside the alphabet", () => {
    expect(decodeBase64url("QQ")).toEqual(new Uint8Array([0x41]));
    expect(decodeBase64url("QR")).toBeUndefined(); // same byte, padding bits set
    expect(decodeBase64url("QUE")).toEqual(new Uint8Array([0x41, 0x41]));
    expect(decodeBase64url("QUF")).toBeUndefined();
    expect(decodeBase64url("QUFB")).toEqual(new Uint8Array([0x41, 0x41, 0x41]));
    for (const bad of ["Q", "QUFBQ", "QQ==", "Q+Q", "Q/Q", "Q Q", "QUF\u00e9", "QU\u0100B"]) {
      expect(decodeBase64url(bad)).toBeUndefined();
    }
    expect(decodeBase64url("")).toEqual(new Uint8Array(0));
  });
});

describe("verifier keys and algorithms", () => {
  it.each([["RS256"], ["PS256"], ["RS512"], ["ES256"], ["ES384"], ["EdDSA"]])(
    "verifies %s with the issuer's key",
    async (alg) => {
      const k = await keyPair(alg, `kid-${alg}`);
      jwks = { keys: [k.publicJwk] };
      const auth = engine([alg]);
      const session = await auth.verifyToken(await k.signToken(claims({ sub: `user-${alg}` })));
      expect(session.userId).toBe(`user-${alg}`);
      // The same token is refused when the operator does not accept that algorithm.
      expect(await verdictOf(engine(["RS384"]).verifyToken(await k.signToken(claims())))).toBe(
        "invalid_token: The access token is signed with an algorithm this server does not accept",
      );
    },
  );

  it("refuses a signature that is valid but spelled non-canonically (padding bits set)", async () => {
    const k = await keyPair("RS256", "kid-canon");
    jwks = { keys: [k.publicJwk] };
    const auth = engine();
    const token = await k.signToken(claims());
    expect(await verdictOf(auth.verifyToken(token))).toBe("accepted");
    // A 256-byte signature is 342 characters: the last one carries 4 padding bits.
    const last = token.at(-1) as string;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const twin = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const respelled = `${token.slice(0, -1)}${twin}`;
    expect(Buffer.from(respelled.split(".")[2] as string, "base64url")).toEqual(
      Buffer.from(token.split(".")[2] as string, "base64url"),
    );
    expect(await verdictOf(auth.verifyToken(respelled))).toBe("invalid_token: The access token signature is invalid");
  });

  it("refuses ambiguous, wrong-use, wrong-alg, private and short keys", async () => {
    const k = await keyPair("RS256", "kid-1");
    const other = await keyPair("RS256", "kid-1");
    const token = await k.signToken(claims());
    const publishes = "invalid_token: The access token was signed by a key this issuer does not publish";

    jwks = { keys: [k.publicJwk, other.publicJwk] }; // two keys under one kid
    expect(await verdictOf(engine().verifyToken(token))).toBe(publishes);

    jwks = { keys: [{ ...k.publicJwk, use: "enc" }] };
    expect(await verdictOf(engine().verifyToken(token))).toBe(publishes);

    jwks = { keys: [{ ...k.publicJwk, key_ops: ["encrypt"] }] };
    expect(await verdictOf(engine().verifyToken(token))).toBe(publishes);

    // The key says RS256; a PS256 signature by the same key pair is refused, even where PS256 is accepted.
    jwks = { keys: [k.publicJwk] };
    const psKey = await importJWK(await exportJWK(k.privateKey), "PS256");
    const ps = await new CompactSign(json(claims())).setProtectedHeader({ alg: "PS256", kid: "kid-1" }).sign(psKey);
    expect(await verdictOf(engine(["RS256", "PS256"]).verifyToken(ps))).toBe(publishes);
    // An ES256 header naming an RSA key.
    const es = await keyPair("ES256", "kid-es");
    const esToken = await new CompactSign(json(claims()))
      .setProtectedHeader({ alg: "ES256", kid: "kid-1" })
      .sign(es.privateKey);
    expect(await verdictOf(engine(["RS256", "ES256"]).verifyToken(esToken))).toBe(publishes);

    // A private key published by mistake is never used.
    jwks = { keys: [{ ...(await exportJWK(k.privateKey)), kid: "kid-1", alg: "RS256" }] };
    expect(await verdictOf(engine().verifyToken(token))).toBe(
      "invalid_token: The access token could not be verified with the issuer's keys",
    );

    // RSA keys shorter than 2048 bits are refused (RFC 7518 §3.3).
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 });
    jwks = { keys: [{ ...(weak.publicKey.export({ format: "jwk" }) as JWK), kid: "weak", alg: "RS256" }] };
    const input = `${b64(JSON.stringify({ alg: "RS256", kid: "weak" }))}.${b64(JSON.stringify(claims()))}`;
    const weakToken = `${input}.${b64(nodeSign("sha256", Buffer.from(input), weak.privateKey))}`;
    expect(await verdictOf(engine().verifyToken(weakToken))).toBe(
      "invalid_token: The access token was signed with an RSA key shorter than 2048 bits",
    );
  });

  it("imports each key once, however many tokens it signed", async () => {
    const k = await keyPair("RS256", "kid-once");
    jwks = { keys: [k.publicJwk] };
    const auth = engine();
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => k.signToken(claims({ jti: `t${i}` }))));
    const results = await Promise.all(tokens.map((t) => verdictOf(auth.verifyToken(t))));
    expect(new Set(results)).toEqual(new Set(["accepted"]));
    expect(auth.stats().jwksFetches).toBe(1);
  });

  it("does not freeze the caller's claims object in sessionFromClaims", async () => {
    const { sessionFromClaims } = await import("../src/index.js");
    const input = { ...claims(), nested: { a: 1 } };
    const session = sessionFromClaims("t", input, { projectId: PROJECT });
    expect(Object.isFrozen(session.claims)).toBe(true);
    expect(Object.isFrozen((session.claims as { nested: object }).nested)).toBe(true);
    expect(Object.isFrozen(input)).toBe(false);
  });
});

describe("differential: verifyToken agrees with jose jwtVerify plus Descope's rules", () => {
  it("accepts exactly what jose accepts and the extra rules allow, with the same claims", async () => {
    const k = await keyPair("RS256", "kid-diff");
    jwks = { keys: [k.publicJwk] };
    const joseKeys = createLocalJWKSet(jwks);
    const privateJwk = await exportJWK(k.privateKey);
    const rsKey = (await importJWK(privateJwk, "RS256")) as CryptoKey;
    const psKey = (await importJWK(privateJwk, "PS256")) as CryptoKey;
    const nowSeconds = Math.floor(Date.now() / 1000);
    const now = () => nowSeconds * 1000 + 250;
    const auth = engine(["RS256"], now);
    const tolerance = auth.config.clockToleranceSeconds;

    /** Mostly the valid value, sometimes one of the others (so acceptance is reached often). */
    const mostly = (valid: unknown, ...others: unknown[]) =>
      fc.oneof({ weight: 5, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
    const time = fc.constantFrom<unknown>(
      undefined,
      nowSeconds,
      nowSeconds - tolerance,
      nowSeconds - tolerance - 1,
      nowSeconds + tolerance,
      nowSeconds + tolerance + 1,
      nowSeconds + 3600,
      nowSeconds - 3600,
      "soon",
      null,
      1e21,
    );
    const claimSet = fc.record(
      {
        iss: mostly(issuer, `${issuer}/T2tenant`, "https://evil.example/v1/apps/P2x", 7, undefined),
        sub: mostly("U1", "", 42, ["U1"], undefined),
        aud: mostly(RESOURCE, [RESOURCE, "other"], ["other"], "other", [], 5, null, undefined),
        exp: fc.oneof({ weight: 3, arbitrary: fc.constant(nowSeconds + 600) }, { weight: 2, arbitrary: time }),
        nbf: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: time }),
        iat: fc.oneof({ weight: 3, arbitrary: fc.constant(nowSeconds) }, { weight: 2, arbitrary: time }),
        scope: fc.string(),
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ["iss", "sub", "aud", "exp", "nbf", "iat"] },
    );
    const header = fc.record(
      {
        alg: mostly("RS256", "PS256", "none", "HS256", "rs256", 1, undefined),
        kid: mostly("kid-diff", "unknown", "", 3, undefined),
        typ: fc.constantFrom<unknown>("JWT", "at+jwt", 5, undefined),
        crit: mostly(undefined, ["exp"], []),
        b64: mostly(undefined, true, false),
      },
      { requiredKeys: ["alg", "kid", "typ", "crit", "b64"] },
    );
    const payload = fc.oneof(
      { weight: 8, arbitrary: claimSet.map((c) => json(c)) },
      { weight: 1, arbitrary: fc.jsonValue().map((v) => json(v)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
    );
    const mutation = fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.record({ at: fc.nat(), char: fc.constantFrom("A", "b", "-", "_", "9") }) },
    );

    const extraRules = (token: string, c: Record<string, unknown>, h: Record<string, unknown>) =>
      typeof h.kid === "string" &&
      h.kid.length > 0 &&
      h.crit === undefined &&
      typeof c.sub === "string" &&
      c.sub.length > 0 &&
      (typeof c.iat !== "number" || c.iat <= now() / 1000 + tolerance) &&
      (c.iss === issuer || c.iss === `${issuer}/T2tenant`) &&
      b64(Buffer.from(token.slice(token.lastIndexOf(".") + 1), "base64url")) ===
        token.slice(token.lastIndexOf(".") + 1);

    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(header, payload, mutation, async (h, body, mutate) => {
        const headerPart = b64(JSON.stringify(h));
        const input = `${headerPart}.${b64(body)}`;
        let token: string;
        if (h.alg === "RS256" || h.alg === "PS256") {
          // Signed over exactly these header bytes (jose would re-serialise the header).
          const key = h.alg === "RS256" ? rsKey : psKey;
          const signature = await crypto.subtle.sign(
            h.alg === "RS256" ? "RSASSA-PKCS1-v1_5" : { name: "RSA-PSS", saltLength: 32 },
            key,
            new TextEncoder().encode(input),
          );
          token = `${input}.${b64(new Uint8Array(signature))}`;
        } else {
          token = `${input}.${b64(new Uint8Array(32))}`;
        }
        if (mutate) {
          const at = mutate.at % token.length;
          if (token[at] !== ".") token = `${token.slice(0, at)}${mutate.char}${token.slice(at + 1)}`;
        }

        let joseClaims: Record<string, unknown> | undefined;
        let joseHeader: Record<string, unknown> = {};
        try {
          const result = await jwtVerify(token, joseKeys, {
            algorithms: ["RS256"],
            audience: [RESOURCE],
            clockTolerance: tolerance,
            requiredClaims: ["exp", "sub", "iss"],
            currentDate: new Date(now()),
          });
          joseClaims = result.payload as Record<string, unknown>;
          joseHeader = result.protectedHeader as Record<string, unknown>;
        } catch {
          joseClaims = undefined;
        }
        const expected = joseClaims !== undefined && extraRules(token, joseClaims, joseHeader);
        let ours: Record<string, unknown> | undefined;
        try {
          ours = (await auth.verifyToken(token)).claims as Record<string, unknown>;
        } catch (error) {
          if (!(error instanceof DescopeMcpError)) throw error;
        }
        expect({ token, accepted: ours !== undefined }).toEqual({ token, accepted: expected });
        if (ours !== undefined) {
          accepted++;
          expect(ours).toEqual(joseClaims);
        }
      }),
      { numRuns: 1500, seed: 20261129 },
    );
    console.log(`differential: 1500 runs, ${accepted} accepted by both, the rest refused by both`);
    // The generators reach acceptance often enough for the agreement to mean something.
    expect(accepted).toBeGreaterThan(100);
  });
});
