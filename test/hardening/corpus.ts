// The hostile-request corpus: one list of cases, run against the core (corpus-core.test.ts) and over
// real HTTP against every built example (corpus-http.suite.ts, one test file per target under corpus-http/). Each case says how to build the request,
// what must come back (status, `error`, challenge) and which rule (RULES, listed in SECURITY.md) that
// enforces. Descriptions are matched by topic, everything else exactly.
import type { DescopeEmulator } from "@descope-mcp/testing";

/** The rules the corpus enforces; SECURITY.md lists them with links to the tests. */
export const RULES = {
  R1: "Credentials travel only as exactly one `Authorization: Bearer <b64token>` header (scheme case-insensitive, 1+ spaces); two headers, a token in the query string, an empty or malformed token, tabs, control or non-ASCII characters → 400 invalid_request",
  R2: "No credentials, or a foreign scheme → 401 with a challenge carrying scope and resource_metadata but no error; tokens elsewhere (body, Proxy-Authorization) count as none",
  R3: "Algorithms are pinned (RS256), never taken from the token: `alg: none`, HMAC with the public key and any other algorithm → 401 before any key lookup",
  R4: "The signature must verify against a key the issuer publishes in its JWKS: a foreign key, an unknown or missing `kid`, a stripped, truncated or tampered signature → 401; `jku`/`x5u`/`jwk` headers are ignored",
  R5: "A `crit` header this server does not understand → 401 before any key lookup",
  R6: "Shape and size first: tokens over maxTokenLength (8192) and anything that is not a compact JWS with a JSON-object header and payload → 401, without crypto work",
  R7: "Issuer: only this project's issuers on the configured Descope origin (agentic, project, tenant, bare forms) or the bare project ID, compared as exact strings → otherwise 401",
  R8: "Audience: `aud` must contain this server's resource URL exactly (no token passthrough) → otherwise 401",
  R9: "Time and subject claims: `exp` required and numeric, `nbf`/`iat` numeric and honoured with 5 s tolerance, `sub` a non-empty string → otherwise 401",
  R10: "Per-tool scopes are enforced before dispatch for every `tools/call` (also inside a batch) → 403 insufficient_scope naming every scope the operation needs; hierarchy `a:*` covers `a:b`",
  R11: 'Challenges are safe: quoted values escape `\\` and `"`, control and non-ASCII characters never reach a header, the JSON body mirrors the header',
  R12: "Malformed bodies never crash: invalid JSON → 400 invalid_request (adapter); JSON that is not a JSON-RPC tools/call names no tool and is refused by the MCP transport",
  R13: "Every route that reaches the MCP handler is gated (Express matches paths case-insensitively and with a trailing slash); preflight is never 401",
  R14: "The HTTP layer refuses what it cannot parse before the app sees it: header section over 16 KiB → 431; CR, LF, NUL or obs-fold in a header → 400",
  R21: "Fail closed on the body: with per-tool scopes, the gate judges exactly the body the transport dispatches; a POST body it cannot read and parse (wrong or missing Content-Type, a charset other than UTF-8, any Content-Encoding, empty, not JSON, not a JSON-RPC message, cut short, aborted) → 400 invalid_request, over the limit → 413",
  R22: "No super-linear work on anything a client sends: header parsing, path matching, scope strings and JSON-RPC inspection are one pass, so worst-case inputs cost what normal ones of the same size cost",
  R23: "No 5xx and no stack trace for any method or request target on the routes the library answers: methods a route does not serve → 405 with Allow; targets a router cannot parse never reach a URL constructor",
} as const;
export type RuleId = keyof typeof RULES;

export const CHALLENGE_SCOPE = "openid outbound.token.fetch";
/** The example-server policy (shared/spec/examples.md); the core runner configures the same. */
export const EXAMPLE_POLICY = {
  toolScopes: { write_note: ["notes:write"] },
  challengeScopes: ["openid", "outbound.token.fetch"],
  scopesSupported: ["openid", "outbound.token.fetch", "notes:write"],
};

export interface CorpusContext {
  emu: DescopeEmulator;
  /** The MCP URL: the audience tokens are minted for. */
  resource: string;
  /** The absolute PRM URL every challenge must name. */
  prm: string;
  /** The MCP path (`/mcp`). */
  mcpPath: string;
}

export interface HostileRequest {
  /** Default POST. */
  method?: string;
  /** Appended to the MCP URL (`?access_token=…`). */
  query?: string;
  /** HTTP only: send to this path instead of the MCP path. */
  path?: string;
  /** Sent in order after `content-type` and `accept`; duplicates allowed. */
  headers?: Array<[string, string]>;
  /** The body text; default a `tools/call` of `whoami`. `null` sends none. */
  body?: string | null;
  /** HTTP only: write the head as raw bytes (CR, LF, NUL, obs-fold, UTF-8, oversized heads). */
  raw?: boolean;
}

export interface ChallengeExpectation {
  /** The `error` parameter; absent for 401 without credentials. */
  error?: string;
  /** Topic of `error_description` (present exactly when `error` is). */
  description?: RegExp;
  /** The exact `scope` parameter, or null when there must be none. */
  scope: string | null;
  /** When set, the whole header must equal this string. */
  exact?: (c: CorpusContext) => string;
}

export interface Expectation {
  status: number;
  /** The JSON body's `error`, or null when the body carries no OAuth error. */
  error: string | null;
  /** The `WWW-Authenticate` header, or null when there must be none. */
  challenge: ChallengeExpectation | null;
  /** HTTP answers that reach the MCP transport: the JSON-RPC answer must be a result (tool ran) or an error. */
  rpc?: "result" | "error";
}

export interface HostileCase {
  name: string;
  group: "token" | "issuer" | "audience" | "claims" | "header" | "challenge" | "body" | "route";
  rule: RuleId;
  /** Builds the token (fresh per target, so time-based claims are current). */
  token?: (c: CorpusContext) => Promise<string>;
  request: (c: CorpusContext, token: string) => HostileRequest;
  expect: Expectation;
  /** Where a target answers differently (or "n/a" when the case means nothing there), and why. */
  core?: Partial<Expectation> | "n/a";
  http?: Partial<Expectation> | "n/a";
  /**
   * Over HTTP, where one example target legitimately answers differently from the others, and why
   * (shown with the case). Keyed by target (`xmcp@workerd`), framework (`xmcp`: all its targets) or
   * runtime (`@workerd`: every workerd target); applied in that order of precedence, most specific
   * last, on top of `http`.
   */
  targets?: Record<string, TargetOverride>;
  /** Refused before any key lookup: the core runner checks a cold engine made no upstream call. */
  precrypto?: boolean;
}

/** One target's own expectation for a case, and the reason it differs. */
export interface TargetOverride {
  expect: Partial<Expectation> | "n/a";
  why: string;
}

// ---- building blocks -------------------------------------------------------------------------------

export const b64 = (value: unknown): string =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const part = (token: string, i: number): string => token.split(".")[i] as string;
const headerOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(part(token, 0), "base64url").toString("utf8"));

/** A validly signed token for this resource. */
export const mint = (c: CorpusContext, claims: Record<string, unknown> = {}, options = {}) =>
  c.emu.mintToken({ aud: c.resource, ...claims }, options);
/** A valid token whose header is replaced afterwards (so the signature no longer matches it). */
const withHeader = async (c: CorpusContext, change: (h: Record<string, unknown>) => unknown) => {
  const token = await mint(c);
  return `${b64(change(headerOf(token)))}.${part(token, 1)}.${part(token, 2)}`;
};

export const rpcCall = (name: unknown, id = 1, args: Record<string, unknown> = { text: "hi" }) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});
const WHOAMI = JSON.stringify(rpcCall("whoami"));
const WRITE_NOTE = JSON.stringify(rpcCall("write_note"));

const bearer = (token: string): Array<[string, string]> => [["authorization", `Bearer ${token}`]];
const withBearer =
  (extra: Omit<HostileRequest, "headers"> = {}) =>
  (_c: CorpusContext, token: string): HostileRequest => ({ headers: bearer(token), ...extra });
const withAuthorization =
  (value: (token: string) => string, extra: Omit<HostileRequest, "headers"> = {}) =>
  (_c: CorpusContext, token: string): HostileRequest => ({ headers: [["authorization", value(token)]], ...extra });

// ---- expectations ----------------------------------------------------------------------------------

const OK: Expectation = { status: 200, error: null, challenge: null, rpc: "result" };
const invalidToken = (description: RegExp): Expectation => ({
  status: 401,
  error: "invalid_token",
  challenge: { error: "invalid_token", description, scope: CHALLENGE_SCOPE },
});
const invalidRequest = (description: RegExp): Expectation => ({
  status: 400,
  error: "invalid_request",
  challenge: { error: "invalid_request", description, scope: CHALLENGE_SCOPE },
});
const NO_CREDENTIALS: Expectation = { status: 401, error: "unauthorized", challenge: { scope: CHALLENGE_SCOPE } };
const insufficient = (scope: string, exact?: ChallengeExpectation["exact"]): Expectation => ({
  status: 403,
  error: "insufficient_scope",
  challenge: {
    error: "insufficient_scope",
    description: /lacks required scopes: notes:write/,
    scope,
    ...(exact ? { exact } : {}),
  },
});
/** Refused by Node's HTTP parser before any application code: no challenge, no JSON body. */
const nodeRefuses = (status: number): Partial<Expectation> => ({ status, error: null, challenge: null });
/** Nest's own 404 for a path no route matches: JSON naming the status (`{"error":"Not Found",…}`). */
const NEST_NOT_FOUND: Partial<Expectation> = { status: 404, error: "Not Found", challenge: null };
const NEST_ROUTES =
  "Nest gates routes, not path prefixes: no route matches this spelling, so Nest answers its own 404 and nothing is served, gated or not";
const FASTIFY_ROUTES =
  "Fastify's router is case-sensitive and strict about trailing slashes (its defaults): this spelling reaches no handler, so Nest answers its own 404 and nothing is served, gated or not";
/** Nest's 404 on both of its platforms, for a spelling neither router matches. */
const onNest = (why: string = NEST_ROUTES): Record<string, TargetOverride> => ({
  nest: { expect: NEST_NOT_FOUND, why },
  "nest@fastify": { expect: NEST_NOT_FOUND, why },
});
/** Fastify answers what Node's HTTP parser refuses with a JSON body naming the status; the status is Node's. */
const fastifyClientError = (status: number, error: string): Record<string, TargetOverride> => ({
  "nest@fastify": {
    expect: { status, error, challenge: null },
    why: `Fastify answers Node's client errors (R14) itself, with the same status and a JSON body {"error":"${error}",…} instead of an empty one`,
  },
});

/** Fastify refuses a request target its URL parser rejects with its own 400, before any application code (R23). */
const FASTIFY_BAD_TARGET: TargetOverride = {
  expect: { status: 400, error: "Bad Request", challenge: null },
  why: "Fastify refuses an absolute-form target whose port no URL parser accepts with its own 400 before routing, so no application code runs",
};
/** `/mcp` → `/%6Dcp`: the same path with its first letter %-escaped. */
const escapeFirstLetter = (path: string) =>
  path.replace(/[a-z]/, (letter) => `%${letter.charCodeAt(0).toString(16).toUpperCase()}`);

/** Passed authentication; the MCP transport answered (HTTP). */
const transport = (status: number, rpc?: "result" | "error"): Partial<Expectation> => ({
  status,
  error: null,
  challenge: null,
  ...(rpc ? { rpc } : {}),
});

const ALG = /algorithm/i;
const SIGNATURE = /signature|malformed/i;
const KEY = /key|signature/i;
const KID = /\bkid\b|key ID/i;
const SIZE = /larger than 8192/i;
const SHAPE = /compact|malformed|header/i;
const ISSUER = /issuer/i;
const AUDIENCE = /audience|not issued for this resource/i;

// ---- the corpus ------------------------------------------------------------------------------------

export const CORPUS: HostileCase[] = [
  // Controls: what must keep working (a corpus that refuses everything proves nothing).
  {
    name: "control: a valid token",
    group: "token",
    rule: "R1",
    token: (c) => mint(c),
    request: withBearer(),
    expect: OK,
  },
  {
    name: "control: lower-case scheme `bearer`",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `bearer ${t}`),
    expect: OK,
  },
  {
    name: "control: upper-case scheme `BEARER`",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `BEARER ${t}`),
    expect: OK,
  },
  {
    name: "control: two spaces after the scheme (RFC 6750: 1*SP)",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer  ${t}`),
    expect: OK,
  },
  {
    name: "control: leading space and trailing tab (optional whitespace around a field value, RFC 9110 §5.5)",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => ` Bearer ${t}\t`),
    expect: OK,
  },

  // alg
  {
    name: "alg none (emulator), empty signature",
    group: "token",
    rule: "R3",
    token: (c) => c.emu.tokens.algNone({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(ALG),
    precrypto: true,
  },
  {
    name: "alg `None` (mixed case), empty signature",
    group: "token",
    rule: "R3",
    token: async (c) => `${b64({ alg: "None", typ: "JWT" })}.${part(await mint(c), 1)}.`,
    request: withBearer(),
    expect: invalidToken(ALG),
    precrypto: true,
  },
  {
    name: "alg `NONE` with the kid, keeping a real RS256 signature",
    group: "token",
    rule: "R3",
    token: (c) => withHeader(c, (h) => ({ ...h, alg: "NONE" })),
    request: withBearer(),
    expect: invalidToken(ALG),
    precrypto: true,
  },
  {
    name: "HS256 signed with the RSA public key (PEM) as secret",
    group: "token",
    rule: "R3",
    token: (c) => c.emu.tokens.hs256WithPublicKey({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(ALG),
    precrypto: true,
  },
  {
    name: "HS512 signed with the RSA public key (PEM) as secret",
    group: "token",
    rule: "R3",
    token: (c) => c.emu.tokens.hs512WithPublicKey({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(ALG),
    precrypto: true,
  },
  {
    name: "alg PS256 in the header of an RS256-signed token",
    group: "token",
    rule: "R3",
    token: (c) => withHeader(c, (h) => ({ ...h, alg: "PS256" })),
    request: withBearer(),
    expect: invalidToken(ALG),
    precrypto: true,
  },
  {
    name: 'alg as an array ["RS256"]',
    group: "token",
    rule: "R3",
    token: (c) => withHeader(c, (h) => ({ ...h, alg: ["RS256"] })),
    request: withBearer(),
    expect: invalidToken(ALG),
    precrypto: true,
  },
  {
    name: "alg header missing",
    group: "token",
    rule: "R3",
    token: (c) => withHeader(c, (h) => ({ ...h, alg: undefined })),
    request: withBearer(),
    expect: invalidToken(ALG),
    precrypto: true,
  },

  // keys and signatures
  {
    name: "RS256 by a key not in the JWKS, with the current kid",
    group: "token",
    rule: "R4",
    token: (c) => c.emu.tokens.foreignKey({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(SIGNATURE),
  },
  {
    name: "RS256 by a foreign key with an unknown kid",
    group: "token",
    rule: "R4",
    token: (c) => c.emu.tokens.unknownKid({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(KEY),
  },
  {
    name: "no kid header (signature valid)",
    group: "token",
    rule: "R4",
    token: (c) => c.emu.tokens.missingKid({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(KID),
    precrypto: true,
  },
  {
    name: "empty kid",
    group: "token",
    rule: "R4",
    token: (c) => mint(c, {}, { kid: "" }),
    request: withBearer(),
    expect: invalidToken(KID),
    precrypto: true,
  },
  {
    name: "numeric kid",
    group: "token",
    rule: "R4",
    token: (c) => mint(c, {}, { header: { kid: 7 } }),
    request: withBearer(),
    expect: invalidToken(KID),
    precrypto: true,
  },
  {
    name: "kid of 2,000 characters",
    group: "token",
    rule: "R4",
    token: (c) => mint(c, {}, { kid: "k".repeat(2000) }),
    request: withBearer(),
    expect: invalidToken(KEY),
  },
  {
    name: "stripped signature (`header.payload.`)",
    group: "token",
    rule: "R4",
    token: (c) => c.emu.tokens.strippedSignature({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(SIGNATURE),
  },
  {
    name: "truncated signature (8 characters short)",
    group: "token",
    rule: "R4",
    token: (c) => c.emu.tokens.truncatedSignature({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(SIGNATURE),
  },
  {
    name: "signature of another valid token",
    group: "token",
    rule: "R4",
    token: async (c) => {
      const a = await mint(c, { scope: "openid" });
      const b = await mint(c, { scope: "openid notes:write", sub: "U2SomeoneElse" });
      return `${part(b, 0)}.${part(b, 1)}.${part(a, 2)}`;
    },
    request: withBearer(),
    expect: invalidToken(SIGNATURE),
  },
  {
    name: "tampered payload (scope gains admin after signing)",
    group: "token",
    rule: "R4",
    token: (c) => c.emu.tokens.tampered({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(SIGNATURE),
  },
  {
    name: "tampered header (a parameter added after signing)",
    group: "token",
    rule: "R4",
    token: (c) => withHeader(c, (h) => ({ ...h, cty: "JWT" })),
    request: withBearer(),
    expect: invalidToken(SIGNATURE),
  },
  {
    name: "jku header pointing at the attacker's JWKS (signed by that key)",
    group: "token",
    rule: "R4",
    token: (c) => c.emu.tokens.jkuHeader({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(KEY),
  },
  {
    name: "x5u header pointing at the attacker's PEM (signed by that key)",
    group: "token",
    rule: "R4",
    token: (c) => c.emu.tokens.x5uHeader({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(KEY),
  },
  {
    name: "jwk header embedding the attacker's key (signed by that key)",
    group: "token",
    rule: "R4",
    token: (c) => c.emu.tokens.jwkHeader({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(KEY),
  },
  {
    name: "crit header naming an unknown extension (signature valid)",
    group: "token",
    rule: "R5",
    token: (c) => c.emu.tokens.critHeader({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(/critical/i),
    precrypto: true,
  },
  {
    name: "crit header as an empty array",
    group: "token",
    rule: "R5",
    token: (c) => withHeader(c, (h) => ({ ...h, crit: [] })),
    request: withBearer(),
    expect: invalidToken(/critical/i),
    precrypto: true,
  },

  // shape and size
  {
    name: "oversized: 17 KiB validly signed (emulator)",
    group: "token",
    rule: "R6",
    token: (c) => c.emu.tokens.oversized({ aud: c.resource }),
    request: withBearer({ raw: true }),
    expect: invalidToken(SIZE),
    // Node's 16 KiB limit on the header section answers first.
    http: nodeRefuses(431),
    precrypto: true,
    targets: {
      ...fastifyClientError(431, "Request Header Fields Too Large"),
      "@workerd": {
        expect: invalidToken(SIZE),
        why: "workerd's HTTP server has no 16 KiB header limit: the request reaches the gate, which refuses the token by size before any crypto",
      },
    },
  },
  {
    name: "oversized: 10 KB validly signed (over maxTokenLength, under Node's limit)",
    group: "token",
    rule: "R6",
    token: (c) => mint(c, { junk: "x".repeat(7000) }),
    request: withBearer(),
    expect: invalidToken(SIZE),
    precrypto: true,
  },
  {
    name: "10 KB of b64token junk",
    group: "token",
    rule: "R6",
    token: async () => "a".repeat(10_000),
    request: withBearer(),
    expect: invalidToken(SIZE),
    precrypto: true,
  },
  {
    name: "100 KB header (over Node's 16 KiB header limit)",
    group: "header",
    rule: "R14",
    token: async () => "a".repeat(100_000),
    request: withBearer({ raw: true }),
    expect: invalidToken(SIZE),
    http: nodeRefuses(431),
    precrypto: true,
    targets: {
      ...fastifyClientError(431, "Request Header Fields Too Large"),
      "@workerd": {
        expect: invalidToken(SIZE),
        why: "workerd's HTTP server has no 16 KiB header limit: the request reaches the gate, which refuses the token by size before any crypto",
      },
    },
  },
  {
    name: "signed payload that is not JSON",
    group: "token",
    rule: "R6",
    token: (c) => c.emu.tokens.nonJsonPayload(),
    request: withBearer(),
    expect: invalidToken(/malformed|claims/i),
  },
  {
    name: "signed payload that is a JSON array",
    group: "token",
    rule: "R6",
    token: (c) => c.emu.tokens.nonObjectPayload(),
    request: withBearer(),
    expect: invalidToken(/malformed|claims/i),
  },
  {
    name: "two segments (`a.b`)",
    group: "token",
    rule: "R6",
    token: async (c) => (await mint(c)).split(".").slice(0, 2).join("."),
    request: withBearer(),
    expect: invalidToken(SHAPE),
    precrypto: true,
  },
  {
    name: "five segments (JWE-shaped)",
    group: "token",
    rule: "R6",
    token: async (c) => `${await mint(c)}.AAAA.BBBB`,
    request: withBearer(),
    expect: invalidToken(SHAPE),
    precrypto: true,
  },
  {
    name: "header segment that is not base64url JSON",
    group: "token",
    rule: "R6",
    token: async (c) => `bm90IGpzb24.${part(await mint(c), 1)}.${part(await mint(c), 2)}`,
    request: withBearer(),
    expect: invalidToken(SHAPE),
    precrypto: true,
  },
  {
    name: "header that is a JSON array",
    group: "token",
    rule: "R6",
    token: (c) => withHeader(c, () => ["RS256"]),
    request: withBearer(),
    expect: invalidToken(SHAPE),
    precrypto: true,
  },
  {
    name: "padded base64 (`=`) segments",
    group: "token",
    rule: "R6",
    token: async (c) => `${await mint(c)}==`,
    request: withBearer(),
    expect: invalidToken(SHAPE),
    precrypto: true,
  },
  {
    name: "a lone dot",
    group: "token",
    rule: "R6",
    token: async () => ".",
    request: withBearer(),
    expect: invalidToken(SHAPE),
    precrypto: true,
  },

  // issuer
  {
    name: "wrong issuer: same host, unrelated path",
    group: "issuer",
    rule: "R7",
    token: (c) => c.emu.tokens.wrongIssuer({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "missing iss",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: undefined }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "another project's issuer on the same host",
    group: "issuer",
    rule: "R7",
    token: (c) => c.emu.tokens.otherProject({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "another project's bare ID as issuer",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: "P2OtherPr0ject00000000000009" }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "this project's issuer path on another host",
    group: "issuer",
    rule: "R7",
    token: (c) => c.emu.tokens.otherHost({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "issuer host spelled `localhost` instead of 127.0.0.1",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: c.emu.issuerURL.replace("127.0.0.1", "localhost") }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "issuer with a trailing slash",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: `${c.emu.issuerURL}/` }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "issuer with dot segments that normalise to this project's issuer",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: `${c.emu.baseURL}/v1/apps/agentic/../${c.emu.projectId}` }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "issuer with a percent-encoded project ID",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: `${c.emu.baseURL}/v1/apps/%50${c.emu.projectId.slice(1)}` }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "issuer with a query string",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: `${c.emu.baseURL}/v1/apps/${c.emu.projectId}?x=1` }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "issuer with userinfo (`http://evil@host/…`)",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: c.emu.issuerURL.replace("http://", "http://evil@") }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "numeric iss",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: 12345 }),
    request: withBearer(),
    expect: invalidToken(ISSUER),
  },
  {
    name: "control: project-level issuer of this project",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: `${c.emu.baseURL}/v1/apps/${c.emu.projectId}` }),
    request: withBearer(),
    expect: OK,
  },
  {
    name: "control: tenant issuer of this project",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: `${c.emu.baseURL}/v1/apps/${c.emu.projectId}/T2tenant1` }),
    request: withBearer(),
    expect: OK,
  },
  {
    name: "control: bare project ID as issuer",
    group: "issuer",
    rule: "R7",
    token: (c) => mint(c, { iss: c.emu.projectId }),
    request: withBearer(),
    expect: OK,
  },

  // audience
  {
    name: "wrong audience (a token for another resource)",
    group: "audience",
    rule: "R8",
    token: (c) => c.emu.tokens.wrongAudience(),
    request: withBearer(),
    expect: invalidToken(AUDIENCE),
  },
  {
    name: "missing aud",
    group: "audience",
    rule: "R8",
    token: (c) => mint(c, { aud: undefined }),
    request: withBearer(),
    expect: invalidToken(AUDIENCE),
  },
  {
    name: "aud = the project ID (Descope's default when no MCP URL is set)",
    group: "audience",
    rule: "R8",
    token: (c) => mint(c, { aud: c.emu.projectId }),
    request: withBearer(),
    expect: invalidToken(AUDIENCE),
  },
  {
    name: "aud = the resource URL with a trailing slash",
    group: "audience",
    rule: "R8",
    token: (c) => mint(c, { aud: `${c.resource}/` }),
    request: withBearer(),
    expect: invalidToken(AUDIENCE),
  },
  {
    name: "aud array without the resource",
    group: "audience",
    rule: "R8",
    token: (c) => mint(c, { aud: ["https://a.example/mcp", c.emu.projectId] }),
    request: withBearer(),
    expect: invalidToken(AUDIENCE),
  },
  {
    name: "control: aud array including the resource",
    group: "audience",
    rule: "R8",
    token: (c) => mint(c, { aud: ["https://a.example/mcp", c.resource] }),
    request: withBearer(),
    expect: OK,
  },

  // time and subject claims
  {
    name: "expired an hour ago",
    group: "claims",
    rule: "R9",
    token: (c) => c.emu.tokens.expired({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(/expired/i),
    targets: {
      xmcp: {
        expect: { error: "token_expired" },
        why: "the body keeps @xmcp-dev/descope's `error` value for its clients (expiredTokenError); status and challenge are the core's",
      },
    },
  },
  {
    name: "nbf an hour in the future",
    group: "claims",
    rule: "R9",
    token: (c) => c.emu.tokens.notYetValid({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(/nbf|not valid yet/i),
  },
  {
    name: "iat an hour in the future",
    group: "claims",
    rule: "R9",
    token: (c) => c.emu.tokens.issuedInFuture({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(/iat|future/i),
  },
  {
    name: "missing exp",
    group: "claims",
    rule: "R9",
    token: (c) => c.emu.tokens.missingExp({ aud: c.resource }),
    request: withBearer(),
    expect: invalidToken(/\bexp\b|expiry/i),
  },
  {
    name: "exp as a string",
    group: "claims",
    rule: "R9",
    token: (c) => mint(c, { exp: String(Math.floor(Date.now() / 1000) + 3600) }),
    request: withBearer(),
    expect: invalidToken(/\bexp\b/i),
  },
  {
    name: "exp null",
    group: "claims",
    rule: "R9",
    token: (c) => mint(c, { exp: null }),
    request: withBearer(),
    expect: invalidToken(/\bexp\b/i),
  },
  {
    name: "nbf as a string",
    group: "claims",
    rule: "R9",
    token: (c) => mint(c, { nbf: "0" }),
    request: withBearer(),
    expect: invalidToken(/\bnbf\b/i),
  },
  {
    name: "iat as a string",
    group: "claims",
    rule: "R9",
    token: (c) => mint(c, { iat: "now" }),
    request: withBearer(),
    expect: invalidToken(/\biat\b/i),
  },
  {
    name: "missing sub",
    group: "claims",
    rule: "R9",
    token: (c) => mint(c, { sub: undefined }),
    request: withBearer(),
    expect: invalidToken(/subject|\bsub\b/i),
  },
  {
    name: "numeric sub",
    group: "claims",
    rule: "R9",
    token: (c) => mint(c, { sub: 42 }),
    request: withBearer(),
    expect: invalidToken(/subject|\bsub\b/i),
  },
  {
    name: "control: no azp claim is not an error",
    group: "claims",
    rule: "R9",
    token: (c) => mint(c, { azp: undefined }),
    request: withBearer(),
    expect: OK,
  },

  // the Authorization header
  {
    name: "no Authorization header",
    group: "header",
    rule: "R2",
    request: () => ({}),
    expect: NO_CREDENTIALS,
  },
  {
    name: "empty Authorization header",
    group: "header",
    rule: "R2",
    request: () => ({ headers: [["authorization", ""]] }),
    expect: NO_CREDENTIALS,
  },
  {
    name: "whitespace-only Authorization header",
    group: "header",
    rule: "R2",
    request: () => ({ headers: [["authorization", "   "]] }),
    expect: NO_CREDENTIALS,
  },
  {
    name: "Basic scheme",
    group: "header",
    rule: "R2",
    request: () => ({ headers: [["authorization", `Basic ${Buffer.from("ada:secret").toString("base64")}`]] }),
    expect: NO_CREDENTIALS,
  },
  {
    name: "Digest scheme with quoted parameters (nothing reflected)",
    group: "header",
    rule: "R2",
    request: () => ({ headers: [["authorization", 'Digest username="a\\"b", realm="x", error="injected"']] }),
    expect: NO_CREDENTIALS,
  },
  {
    name: "a valid token under Proxy-Authorization only",
    group: "header",
    rule: "R2",
    token: (c) => mint(c),
    request: (_c, t) => ({ headers: [["proxy-authorization", `Bearer ${t}`]] }),
    expect: NO_CREDENTIALS,
  },
  {
    name: "a valid token in the JSON body (`access_token`), no header",
    group: "header",
    rule: "R2",
    token: (c) => mint(c),
    request: (_c, t) => ({ body: JSON.stringify({ ...rpcCall("whoami"), access_token: t }) }),
    expect: NO_CREDENTIALS,
  },
  {
    name: "empty bearer (`Bearer`)",
    group: "header",
    rule: "R1",
    request: () => ({ headers: [["authorization", "Bearer"]] }),
    expect: invalidRequest(/empty/i),
  },
  {
    name: "empty bearer with trailing spaces (`Bearer   `)",
    group: "header",
    rule: "R1",
    request: () => ({ headers: [["authorization", "Bearer   "]] }),
    expect: invalidRequest(/empty/i),
  },
  {
    name: "two Authorization headers (same valid token)",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: (_c, t) => ({ headers: [...bearer(t), ...bearer(t)] }),
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: "two Authorization headers (`Authorization` and `authorization`, Bearer and Basic)",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: (_c, t) => ({
      headers: [
        ["Authorization", `Bearer ${t}`],
        ["authorization", "Basic YTpi"],
      ],
    }),
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: "two tokens in one header, comma-joined",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ${t}, Bearer ${t}`),
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: "token followed by junk (`Bearer <t> extra`)",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ${t} extra`),
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: 'quoted token (`Bearer "<t>"`)',
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer "${t}"`),
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: "token of `=` only",
    group: "header",
    rule: "R1",
    request: () => ({ headers: [["authorization", "Bearer ==="]] }),
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: "valid token also in the query string",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: (_c, t) => ({ headers: bearer(t), query: `?access_token=${t}` }),
    expect: invalidRequest(/query string/i),
  },
  {
    name: "valid token in the query string only",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: (_c, t) => ({ query: `?access_token=${t}` }),
    expect: invalidRequest(/query string/i),
  },
  {
    name: "percent-encoded `access%5Ftoken` in the query",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: (_c, t) => ({ headers: bearer(t), query: `?a=1&access%5Ftoken=${t}` }),
    expect: invalidRequest(/query string/i),
  },
  {
    name: "empty `access_token` in the query",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: (_c, t) => ({ headers: bearer(t), query: "?access_token=" }),
    expect: invalidRequest(/query string/i),
  },
  {
    name: "tab between scheme and token",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer\t${t}`),
    expect: invalidRequest(/malformed/i),
  },
  {
    name: "tab inside the credentials",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ${t}\t${t}`),
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: "no-break space (U+00A0) between scheme and token",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer\u00a0${t}`),
    expect: invalidRequest(/malformed/i),
  },
  {
    name: "non-ASCII (Latin-1 `é`) after the token",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ${t}é`),
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: "non-ASCII (UTF-8 `✓`) before the token",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ✓${t}`, { raw: true }),
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: "quote in the scheme name",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bea"rer ${t}`),
    expect: invalidRequest(/malformed/i),
  },
  {
    name: "bare CR inside the header value",
    group: "header",
    rule: "R14",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ${t}\rX-Injected: 1`, { raw: true }),
    expect: invalidRequest(/exactly one/i),
    http: nodeRefuses(400),
    targets: {
      "@workerd": {
        expect: OK,
        why: "workerd's HTTP server ends the header line at a bare CR (RFC 9112 §2.2 lets a recipient do so): one valid Authorization header arrives",
      },
      ...fastifyClientError(400, "Bad Request"),
    },
  },
  {
    name: "bare LF inside the header value",
    group: "header",
    rule: "R14",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ${t}\nX-Injected: 1`, { raw: true }),
    expect: invalidRequest(/exactly one/i),
    http: nodeRefuses(400),
    targets: {
      "@workerd": {
        expect: OK,
        why: "workerd's HTTP server ends the header line at a bare LF (RFC 9112 §2.2 lets a recipient do so): one valid Authorization header arrives",
      },
      ...fastifyClientError(400, "Bad Request"),
    },
  },
  {
    name: "CRLF smuggling a second Authorization header",
    group: "header",
    rule: "R1",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ${t}\r\nAuthorization: Bearer ${t}`, { raw: true }),
    // Over HTTP the CRLF ends the line: two headers arrive. In the core it is one malformed value.
    expect: invalidRequest(/exactly one/i),
  },
  {
    name: "NUL byte after the token",
    group: "header",
    rule: "R14",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ${t}\u0000`, { raw: true }),
    expect: invalidRequest(/exactly one/i),
    http: nodeRefuses(400),
    targets: fastifyClientError(400, "Bad Request"),
  },
  {
    name: "obs-fold (token on a continuation line)",
    group: "header",
    rule: "R14",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer\r\n ${t}`, { raw: true }),
    expect: invalidRequest(/malformed/i),
    http: nodeRefuses(400),
    targets: {
      "@workerd": {
        expect: OK,
        why: "workerd's HTTP server unfolds obs-fold into a space (RFC 9112 §5.2 lets a recipient do so): one valid Authorization header arrives",
      },
      ...fastifyClientError(400, "Bad Request"),
    },
  },

  // scopes reflected into challenges
  {
    name: "scope claim injecting a quote and a parameter into the challenge",
    group: "challenge",
    rule: "R11",
    token: (c) => mint(c, { scope: 'openid x",error="bypass' }),
    request: withBearer({ body: WRITE_NOTE }),
    expect: insufficient(
      'notes:write openid x",error="bypass',
      (c) =>
        `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="notes:write openid x\\",error=\\"bypass", resource_metadata="${c.prm}"`,
    ),
  },
  {
    name: "scope claim injecting CRLF and a Set-Cookie header into the challenge",
    group: "challenge",
    rule: "R11",
    token: (c) => mint(c, { scope: "openid\r\nSet-Cookie: a=b" }),
    request: withBearer({ body: WRITE_NOTE }),
    expect: insufficient(
      "a=b notes:write openid Set-Cookie:",
      (c) =>
        `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="a=b notes:write openid Set-Cookie:", resource_metadata="${c.prm}"`,
    ),
  },
  {
    name: "scope claim with a backslash",
    group: "challenge",
    rule: "R11",
    token: (c) => mint(c, { scope: "openid a\\b" }),
    request: withBearer({ body: WRITE_NOTE }),
    expect: insufficient(
      "a\\b notes:write openid",
      (c) =>
        `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="a\\\\b notes:write openid", resource_metadata="${c.prm}"`,
    ),
  },
  {
    name: "`scopes` array claim with a quote and a NUL",
    group: "challenge",
    rule: "R11",
    token: (c) => mint(c, { scope: undefined, scopes: ["openid", 'q"\u0000'] }),
    request: withBearer({ body: WRITE_NOTE }),
    expect: insufficient('notes:write openid q"'),
  },
  {
    name: "scope claim with non-ASCII letters",
    group: "challenge",
    rule: "R11",
    token: (c) => mint(c, { scope: "openid ünïcode" }),
    request: withBearer({ body: WRITE_NOTE }),
    expect: insufficient("notes:write openid n code"),
  },

  // bodies
  {
    name: "write_note without notes:write",
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: withBearer({ body: WRITE_NOTE }),
    expect: insufficient("notes:write openid"),
  },
  {
    name: "control: write_note with notes:write",
    group: "body",
    rule: "R10",
    token: (c) => mint(c, { scope: "openid notes:write" }),
    request: withBearer({ body: WRITE_NOTE }),
    expect: OK,
  },
  {
    name: "control: write_note with notes:* (hierarchy)",
    group: "body",
    rule: "R10",
    token: (c) => mint(c, { scope: "openid notes:*" }),
    request: withBearer({ body: WRITE_NOTE }),
    expect: OK,
  },
  {
    name: "`note:*` or `notes` do not cover notes:write",
    group: "body",
    rule: "R10",
    token: (c) => mint(c, { scope: "notes note:* *" }),
    request: withBearer({ body: WRITE_NOTE }),
    expect: insufficient("* note:* notes notes:write"),
  },
  {
    name: "batch hiding write_note behind whoami",
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: withBearer({ body: JSON.stringify([rpcCall("whoami", 1), rpcCall("write_note", 2)]) }),
    expect: insufficient("notes:write openid"),
  },
  {
    name: "batch of 100 calls, write_note last",
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: withBearer({
      body: JSON.stringify([
        ...Array.from({ length: 99 }, (_, i) => rpcCall("whoami", i + 1)),
        rpcCall("write_note", 100),
      ]),
    }),
    expect: insufficient("notes:write openid"),
  },
  {
    name: "batch with a notification and tools/list before write_note",
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: withBearer({
      body: JSON.stringify([
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 1, method: "tools/list" },
        rpcCall("write_note", 2),
      ]),
    }),
    expect: insufficient("notes:write openid"),
  },
  {
    name: "control: a batch of whoami only",
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: withBearer({ body: JSON.stringify([rpcCall("whoami", 1)]) }),
    expect: OK,
  },
  {
    name: "duplicate `params` keys, the last naming write_note (JSON.parse keeps the last, like the transport)",
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: withBearer({
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"},"params":{"name":"write_note","arguments":{"text":"x"}}}',
    }),
    expect: insufficient("notes:write openid"),
  },
  {
    name: "duplicate `method` keys, the last being tools/call",
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: withBearer({
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"write_note","arguments":{"text":"x"}}}',
    }),
    expect: insufficient("notes:write openid"),
  },
  {
    name: "UTF-8 BOM before a write_note call",
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: withBearer({ body: `\uFEFF${WRITE_NOTE}` }),
    expect: insufficient("notes:write openid"),
  },
  {
    name: "write_note sent as text/plain",
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: (_c, t) => ({ headers: [["content-type", "text/plain"], ...bearer(t)], body: WRITE_NOTE }),
    // Per-tool scopes need the body, and only application/json is read as one (R21).
    expect: invalidRequest(/Content-Type: application\/json/),
  },
  {
    name: 'write_note with `jsonrpc: "1.0"` (policy applies to any tools/call)',
    group: "body",
    rule: "R10",
    token: (c) => mint(c),
    request: withBearer({ body: WRITE_NOTE.replace('"2.0"', '"1.0"') }),
    expect: insufficient("notes:write openid"),
  },
  {
    name: "nested batch `[[write_note]]` (not JSON-RPC: names no tool, the transport refuses it)",
    group: "body",
    rule: "R12",
    token: (c) => mint(c),
    request: withBearer({ body: `[[${WRITE_NOTE}]]` }),
    expect: { status: 200, error: null, challenge: null },
    http: transport(400),
  },
  {
    name: "tools/call whose name is not a string",
    group: "body",
    rule: "R12",
    token: (c) => mint(c),
    request: withBearer({ body: JSON.stringify(rpcCall(["write_note"])) }),
    expect: { status: 200, error: null, challenge: null },
    http: transport(200, "error"),
  },
  {
    name: "tools/call of `write_note ` (trailing space: another, unknown tool)",
    group: "body",
    rule: "R12",
    token: (c) => mint(c),
    request: withBearer({ body: JSON.stringify(rpcCall("write_note ")) }),
    expect: { status: 200, error: null, challenge: null },
    http: transport(200, "error"),
  },
  {
    name: "`TOOLS/CALL` (not a method the transport knows)",
    group: "body",
    rule: "R12",
    token: (c) => mint(c),
    request: withBearer({ body: WRITE_NOTE.replace("tools/call", "TOOLS/CALL") }),
    expect: { status: 200, error: null, challenge: null },
    http: transport(200, "error"),
  },
  {
    name: "params.__proto__.name = write_note (no prototype tricks)",
    group: "body",
    rule: "R12",
    token: (c) => mint(c),
    request: withBearer({
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"__proto__":{"name":"write_note"},"arguments":{"text":"x"}}}',
    }),
    expect: { status: 200, error: null, challenge: null },
    http: transport(200, "error"),
    targets: {
      "nest@fastify": {
        expect: { status: 400, error: null, challenge: null, rpc: undefined },
        why: "Fastify's JSON parser refuses `__proto__` keys outright (its default onProtoPoisoning: 'error'): the gate lets this body through, Fastify's 400 stands and the transport never sees it",
      },
    },
  },
  {
    name: "malformed JSON body",
    group: "body",
    rule: "R12",
    token: (c) => mint(c),
    request: withBearer({ body: '{"jsonrpc":' }),
    expect: invalidRequest(/not valid JSON/i),
  },
  {
    name: "malformed JSON that mentions write_note",
    group: "body",
    rule: "R12",
    token: (c) => mint(c),
    request: withBearer({ body: WRITE_NOTE.slice(0, -1) }),
    expect: invalidRequest(/not valid JSON/i),
  },
  {
    name: "JSON `null` body",
    group: "body",
    rule: "R12",
    token: (c) => mint(c),
    request: withBearer({ body: "null" }),
    expect: invalidRequest(/not a JSON-RPC message/),
  },
  {
    name: "empty body",
    group: "body",
    rule: "R12",
    token: (c) => mint(c),
    request: withBearer({ body: "" }),
    expect: invalidRequest(/empty/),
  },
  {
    name: "write_note sent gzip-encoded (Content-Encoding is never decoded by the gate)",
    group: "body",
    rule: "R21",
    token: (c) => mint(c),
    request: (_c, t) => ({ headers: [["content-encoding", "gzip"], ...bearer(t)], body: WRITE_NOTE }),
    expect: invalidRequest(/Content-Encoding/),
  },
  {
    name: "write_note with `charset=latin1`",
    group: "body",
    rule: "R21",
    token: (c) => mint(c),
    request: (_c, t) => ({
      headers: [["content-type", "application/json; charset=latin1"], ...bearer(t)],
      body: WRITE_NOTE,
    }),
    expect: invalidRequest(/UTF-8/),
  },
  {
    name: "write_note as `application/json-patch+json`",
    group: "body",
    rule: "R21",
    token: (c) => mint(c),
    request: (_c, t) => ({
      headers: [["content-type", "application/json-patch+json"], ...bearer(t)],
      body: WRITE_NOTE,
    }),
    expect: invalidRequest(/Content-Type: application\/json/),
  },
  {
    name: "write_note with an empty Content-Type",
    group: "body",
    rule: "R21",
    token: (c) => mint(c),
    request: (_c, t) => ({ headers: [["content-type", ""], ...bearer(t)], body: WRITE_NOTE }),
    expect: invalidRequest(/no Content-Type/),
  },
  {
    name: 'a JSON string body naming the tool (`"write_note"`) is no JSON-RPC message',
    group: "body",
    rule: "R21",
    token: (c) => mint(c),
    request: withBearer({ body: JSON.stringify("write_note") }),
    expect: invalidRequest(/not a JSON-RPC message/),
  },
  {
    name: "write_note padded past the 4 MiB body limit",
    group: "body",
    rule: "R21",
    token: (c) => mint(c),
    // Sent raw: the server answers 413 from the Content-Length and closes while the body is still on
    // its way, and only the raw client keeps an answer that arrives before the connection is reset.
    request: withBearer({
      body: JSON.stringify(rpcCall("write_note", 1, { text: "x".repeat(4 * 1024 * 1024) })),
      raw: true,
    }),
    expect: { status: 413, error: "invalid_request", challenge: null },
  },
  {
    name: "8,000 spaces between the scheme and a valid token (1*SP, one pass)",
    group: "header",
    rule: "R22",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer${" ".repeat(8000)}${t}`),
    expect: OK,
  },
  {
    name: "`Bearer` + 12,000 spaces + `x` (the quadratic-trim input)",
    group: "header",
    rule: "R22",
    request: withAuthorization(() => `Bearer${" ".repeat(12_000)}x`),
    expect: invalidToken(SHAPE),
    precrypto: true,
  },
  {
    name: "a valid token followed by 12,000 spaces",
    group: "header",
    rule: "R22",
    token: (c) => mint(c),
    request: withAuthorization((t) => `Bearer ${t}${" ".repeat(12_000)}`),
    expect: OK,
  },
  {
    name: "a token whose scope claim is 3,000 spaces around notes:read (no notes:write)",
    group: "body",
    rule: "R22",
    token: (c) => mint(c, { scope: `${" ".repeat(1500)}notes:read${" ".repeat(1500)}` }),
    request: withBearer({ body: WRITE_NOTE }),
    expect: insufficient("notes:read notes:write"),
  },
  {
    name: "a batch of 2,000 calls hiding one write_note",
    group: "body",
    rule: "R22",
    token: (c) => mint(c),
    request: withBearer({
      body: JSON.stringify([
        ...Array.from({ length: 1999 }, (_, i) => rpcCall("whoami", i + 2)),
        rpcCall("write_note"),
      ]),
    }),
    expect: insufficient("notes:write openid"),
  },
  {
    name: "malformed JSON without credentials (authentication comes first)",
    group: "body",
    rule: "R2",
    request: () => ({ body: '{"jsonrpc":' }),
    expect: NO_CREDENTIALS,
  },

  // routes (HTTP only: the core does not route)
  {
    name: "POST /MCP without credentials (Express matches case-insensitively)",
    group: "route",
    rule: "R13",
    request: (c) => ({ path: c.mcpPath.toUpperCase() }),
    expect: NO_CREDENTIALS,
    core: "n/a",
    targets: { "nest@fastify": { expect: NEST_NOT_FOUND, why: FASTIFY_ROUTES } },
  },
  {
    name: "POST /MCP write_note without notes:write",
    group: "route",
    rule: "R13",
    token: (c) => mint(c),
    request: (c, t) => ({ path: c.mcpPath.toUpperCase(), headers: bearer(t), body: WRITE_NOTE }),
    expect: insufficient("notes:write openid"),
    core: "n/a",
    targets: { "nest@fastify": { expect: NEST_NOT_FOUND, why: FASTIFY_ROUTES } },
  },
  {
    name: "POST /mcp/ (trailing slash) write_note without notes:write",
    group: "route",
    rule: "R13",
    token: (c) => mint(c),
    request: (c, t) => ({ path: `${c.mcpPath}/`, headers: bearer(t), body: WRITE_NOTE }),
    expect: insufficient("notes:write openid"),
    core: "n/a",
    targets: { "nest@fastify": { expect: NEST_NOT_FOUND, why: FASTIFY_ROUTES } },
  },
  {
    name: "POST /mcp/../mcp without credentials",
    group: "route",
    rule: "R13",
    request: (c) => ({ path: `${c.mcpPath}/..${c.mcpPath}` }),
    expect: NO_CREDENTIALS,
    core: "n/a",
    // Express's gate is mounted on the path prefix; Nest routes match whole paths and neither normalizes `..`.
    targets: onNest(),
  },
  {
    name: "POST //mcp is not served at all",
    group: "route",
    rule: "R13",
    token: (c) => mint(c),
    request: (c, t) => ({ path: `/${c.mcpPath}`, headers: bearer(t), body: WRITE_NOTE }),
    expect: { status: 404, error: null, challenge: null },
    core: "n/a",
    targets: {
      xmcp: {
        expect: insufficient("notes:write openid"),
        why: "xmcp's gate (Node middleware, Worker wrapper) judges every spelling of the endpoint (isUnderMcpPath), `//mcp` too, although xmcp would not serve it: refused by the gate instead of 404 (gating too much is safe)",
      },
      hono: {
        expect: insufficient("notes:write openid"),
        why: "the Web gate (auth.handle) judges every spelling of the endpoint, `//mcp` too, whatever Hono's router serves: refused exactly like /mcp (gating too much is safe)",
      },
      ...onNest("Not served, as on Express; Nest's 404 is JSON naming the status"),
    },
  },
  {
    name: "POST /%6Dcp (an escaped letter) write_note without notes:write",
    group: "route",
    rule: "R13",
    token: (c) => mint(c),
    request: (c, t) => ({ path: escapeFirstLetter(c.mcpPath), headers: bearer(t), body: WRITE_NOTE }),
    // Express matches paths as sent: nothing is served at this spelling.
    expect: { status: 404, error: null, challenge: null },
    core: "n/a",
    targets: {
      nest: { expect: NEST_NOT_FOUND, why: NEST_ROUTES },
      "nest@fastify": {
        expect: insufficient("notes:write openid"),
        why: "Fastify's router decodes %-escapes, so this spelling reaches the MCP handler: it must be gated like the plain path",
      },
      xmcp: {
        expect: insufficient("notes:write openid"),
        why: "xmcp's gate judges every spelling of the endpoint (isUnderMcpPath decodes %-escapes of unreserved characters): refused by the gate (gating too much is safe)",
      },
      hono: {
        expect: insufficient("notes:write openid"),
        why: "the Web gate (auth.handle) judges every spelling of the endpoint (%-escapes of unreserved characters decoded), whatever Hono's router serves: refused like /mcp",
      },
    },
  },
  {
    name: "GET /mcp without credentials",
    group: "route",
    rule: "R13",
    request: () => ({ method: "GET", body: null }),
    expect: NO_CREDENTIALS,
    core: "n/a",
  },
  {
    name: "DELETE /mcp without credentials",
    group: "route",
    rule: "R13",
    request: () => ({ method: "DELETE", body: null }),
    expect: NO_CREDENTIALS,
    core: "n/a",
  },
  {
    name: "GET /mcp with a valid token (stateless server: 405, after authentication)",
    group: "route",
    rule: "R13",
    token: (c) => mint(c),
    request: (_c, t) => ({ method: "GET", headers: bearer(t), body: null }),
    expect: { status: 405, error: null, challenge: null },
    core: "n/a",
  },
  {
    name: "TRACE /mcp (a method the endpoint does not serve) → 405 with Allow, before authentication",
    group: "route",
    rule: "R23",
    request: () => ({ method: "TRACE", body: null }),
    expect: { status: 405, error: "method_not_allowed", challenge: null },
  },
  {
    name: "PUT /mcp with a valid token → 405",
    group: "route",
    rule: "R23",
    token: (c) => mint(c),
    request: (_c, t) => ({ method: "PUT", headers: bearer(t), body: WRITE_NOTE }),
    expect: { status: 405, error: "method_not_allowed", challenge: null },
  },
  {
    name: "TRACE on the protected-resource metadata → 405 (never a 500 from building a Request)",
    group: "route",
    rule: "R23",
    request: () => ({ method: "TRACE", path: "/.well-known/oauth-protected-resource", body: null }),
    expect: { status: 405, error: "method_not_allowed", challenge: null },
    core: "n/a",
  },
  {
    name: "TRACE on the path-aware metadata → 405",
    group: "route",
    rule: "R23",
    request: (c) => ({ method: "TRACE", path: `/.well-known/oauth-protected-resource${c.mcpPath}`, body: null }),
    expect: { status: 405, error: "method_not_allowed", challenge: null },
    core: "n/a",
  },
  {
    name: "DELETE on the authorization-server metadata → 405",
    group: "route",
    rule: "R23",
    request: () => ({ method: "DELETE", path: "/.well-known/oauth-authorization-server", body: null }),
    expect: { status: 405, error: "method_not_allowed", challenge: null },
    core: "n/a",
  },
  {
    name: "absolute-form target whose port no URL parser accepts, on the metadata route → no 500",
    group: "route",
    rule: "R23",
    request: () => ({
      method: "GET",
      path: "http://mcp.example:99999/.well-known/oauth-protected-resource",
      body: null,
      raw: true,
    }),
    expect: { status: 200, error: null, challenge: null },
    core: "n/a",
    targets: {
      hono: {
        expect: { status: 400, error: null, challenge: null },
        why: "@hono/node-server builds the request URL from the target and answers a bare 400 when it cannot, before any app code runs",
      },
      "@workerd": {
        expect: { status: 500, error: null, challenge: null },
        why: "workerd's HTTP server refuses a target its URL parser rejects (port 99999) with a bare `Internal Server Error` before any Worker code runs: the library never sees the request (no stack trace is sent)",
      },
      "nest@fastify": FASTIFY_BAD_TARGET,
    },
  },
  {
    name: "absolute-form target whose port no URL parser accepts, on the MCP path → no 500",
    group: "route",
    rule: "R23",
    request: (c) => ({ method: "POST", path: `http://mcp.example:99999${c.mcpPath}`, raw: true }),
    expect: NO_CREDENTIALS,
    core: "n/a",
    targets: {
      hono: {
        expect: { status: 400, error: null, challenge: null },
        why: "@hono/node-server builds the request URL from the target and answers a bare 400 when it cannot, before any app code runs",
      },
      "@workerd": {
        expect: { status: 500, error: null, challenge: null },
        why: "workerd's HTTP server refuses a target its URL parser rejects (port 99999) with a bare `Internal Server Error` before any Worker code runs: the library never sees the request (no stack trace is sent)",
      },
      "nest@fastify": FASTIFY_BAD_TARGET,
    },
  },
  {
    name: "OPTIONS /mcp preflight is never 401",
    group: "route",
    rule: "R13",
    request: () => ({
      method: "OPTIONS",
      body: null,
      headers: [
        ["origin", "https://app.example"],
        ["access-control-request-method", "POST"],
      ],
    }),
    expect: { status: 204, error: null, challenge: null },
    core: "n/a",
  },
];

/**
 * The expectation of `kase` on `target`, or undefined when the case does not apply there. Over HTTP,
 * `example` (an example target such as `xmcp@workerd`) picks its `targets` overrides.
 */
export function expectationFor(kase: HostileCase, target: "core" | "http", example?: string): Expectation | undefined {
  const override = kase[target];
  if (override === "n/a") return undefined;
  let expectation: Expectation = { ...kase.expect, ...(override ?? {}) };
  if (target === "http" && example && kase.targets) {
    const [framework, runtime] = example.split("@");
    for (const key of [framework, runtime ? `@${runtime}` : undefined, example]) {
      const specific = key === undefined ? undefined : kase.targets[key];
      if (!specific) continue;
      if (specific.expect === "n/a") return undefined;
      expectation = { ...expectation, ...specific.expect };
    }
  }
  // The core only decides; what the MCP transport answers is checked over HTTP.
  if (target === "core") delete expectation.rpc;
  return expectation;
}

/** Default request pieces: content type and accept first, then the case's headers. */
export function requestParts(c: CorpusContext, spec: HostileRequest) {
  const method = spec.method ?? "POST";
  const body = spec.body === null ? undefined : (spec.body ?? WHOAMI);
  const headers: Array<[string, string]> = [];
  if (body !== undefined && !spec.headers?.some(([n]) => n.toLowerCase() === "content-type")) {
    headers.push(["content-type", "application/json"]);
  }
  headers.push(["accept", "application/json, text/event-stream"], ...(spec.headers ?? []));
  return { method, body, headers, pathAndQuery: `${spec.path ?? c.mcpPath}${spec.query ?? ""}` };
}
