// Property-based fuzzing (fast-check) of header parsing, issuer parsing, scope matching and challenge
// building: 10,000 runs each with a fixed seed (HARDENING_FULL=1: 100,000). No input may make them throw
// anything but a typed error (which would surface as a 500), and no header they produce may carry an
// unescaped quote or a control character.
import {
  buildChallenge,
  ConfigurationError,
  ConnectionDeniedError,
  ConnectionNotFoundError,
  createDescopeMcpAuth,
  createIssuerMatcher,
  DescopeMcpError,
  extractBearerToken,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isProjectId,
  missingScopes,
  requireScopes,
  resolveIssuer,
  scopeCovers,
  scopesForRequest,
  TokenExpiredError,
  UnauthorizedError,
  UpstreamError,
  UpstreamUnavailableError,
  UserNotFoundError,
} from "@descope-mcp/core";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_POLICY } from "./corpus.js";
import { isHeaderSafe, parseChallenge } from "./lib.js";

// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by vitest only (pnpm hardening:full); turbo never runs it
const FULL = process.env.HARDENING_FULL === "1";
const SEED = 20_261_122;
const RUNS = FULL ? 100_000 : 10_000;
const params = { seed: SEED, numRuns: RUNS };
const PRM = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const P = "P2EmuLat0rPr0jectId000000001";
const OTHER_P = "P2OtherPr0ject00000000000009";
const M = "MEmulat0rMcpServer0000000001";
const ORIGIN = "https://api.descope.com";
/** One engine whose `errorResult` maps every error (challenge scopes as in the examples). */
const ENGINE = createDescopeMcpAuth({
  issuerURL: `${ORIGIN}/v1/apps/agentic/${P}/${M}`,
  baseURL: "https://mcp.example.com",
  ...EXAMPLE_POLICY,
});
const createResult = (error: unknown) => ENGINE.errorResult(error);

const stats = { header: 0, issuer: 0, scopes: 0, challenge: 0, authenticate: 0 };
/** How often the accepting branch was reached: a property that never accepts proves little. */
const accepted = { header: 0, issuer: 0, authenticate: 0 };
afterAll(() => {
  console.log(
    `fuzz (seed ${SEED}): ${Object.entries(stats)
      .map(([k, v]) => `${k} ${v} runs`)
      .join(", ")}; accepted: ${JSON.stringify(accepted)}; 0 failures`,
  );
});

/** The value a quoted-string should carry after sanitising: printable ASCII, runs of anything else → one space. */
const sanitised = (value: string) =>
  value
    .replace(/[^\x20-\x7e]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();

/** Every header of an error answer is printable ASCII, a challenge parses strictly and names the PRM. */
function headerProblems(headers: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(headers)) if (!isHeaderSafe(value)) problems.push(`unsafe ${name}`);
  const challenge = headers["www-authenticate"];
  if (challenge !== undefined) {
    const parsed = parseChallenge(challenge);
    if (!parsed) problems.push(`challenge does not parse: ${challenge}`);
    else if (new Map(parsed.params).get("resource_metadata") !== PRM) problems.push("challenge lost resource_metadata");
  }
  const retryAfter = headers["retry-after"];
  if (retryAfter !== undefined && !/^\d{1,9}$/.test(retryAfter)) problems.push(`Retry-After ${retryAfter}`);
  try {
    new Headers(headers);
  } catch {
    problems.push("not valid as Web headers");
  }
  return problems;
}

// ---- arbitraries -------------------------------------------------------------------------------------

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=";
const NASTY = [
  " ",
  "\t",
  "\r",
  "\n",
  "\r\n",
  "\u0000",
  "\u00a0",
  "\u2028",
  '"',
  "\\",
  ",",
  ";",
  "=",
  "é",
  "✓",
  "\ud800",
];
const tokenish = fc
  .array(
    fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...B64) }, { weight: 1, arbitrary: fc.constantFrom(...NASTY) }),
    {
      maxLength: 40,
    },
  )
  .map((chars) => chars.join(""));
const often = <T>(common: T[], rare: T[]) =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...common) }, { weight: 1, arbitrary: fc.constantFrom(...rare) });
const scheme = often(
  ["Bearer", "bearer", "BEARER", "BeArEr"],
  ["Basic", "Digest", "Bearer,", "Bear er", "", "X", "Bearer\u0000"],
);
const separator = often([" ", "  "], ["\t", "", "\u00a0", "\r\n ", " \t ", ","]);
const structuredHeader = fc
  .tuple(often(["", " "], ["\t", "\n"]), scheme, separator, tokenish, often(["", " "], ["\t", ",", " x", "\r\n"]))
  .map((parts) => parts.join(""));
const headerValue = fc.oneof({ weight: 4, arbitrary: structuredHeader }, fc.string({ unit: "binary", maxLength: 60 }));
const authorization = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
  { weight: 6, arbitrary: headerValue },
  { weight: 2, arbitrary: fc.array(headerValue, { maxLength: 3 }) },
);
const url = fc.oneof(
  fc.constant(undefined),
  fc.constant("/mcp"),
  fc.string({ unit: "binary", maxLength: 30 }).map((q) => `/mcp?${q}`),
  fc
    .tuple(fc.constantFrom("access_token", "access%5Ftoken", "ACCESS_TOKEN", "a", "access_token[]"), tokenish)
    .map(([k, v]) => `https://mcp.example.com/mcp?x=1&${k}=${v}#frag`),
);

describe("fuzz: Authorization header parsing", () => {
  it(`accepts exactly one well-formed Bearer header, else a typed 400/401 with a safe challenge (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(authorization, url, (auth, u) => {
        stats.header++;
        let token: string | undefined;
        let error: unknown;
        try {
          token = extractBearerToken({ authorization: auth, url: u });
        } catch (e) {
          error = e;
        }
        if (token !== undefined) {
          const values = auth === null || auth === undefined ? [] : typeof auth === "string" ? [auth] : auth;
          if (values.length !== 1) return false;
          const value = (values[0] as string).replace(/^[ \t]+|[ \t]+$/g, ""); // optional whitespace (SP, HTAB)
          if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) return false;
          if (value.slice(-token.length) !== token || !/^bearer +$/i.test(value.slice(0, -token.length))) return false;
          if (u && /[?&]access(_|%5F)token=/.test(u.split("#")[0] as string)) return false;
          accepted.header++;
          return true;
        }
        if (!(error instanceof InvalidRequestError || error instanceof UnauthorizedError)) return false;
        const result = createResult(error);
        return (result.status === 400 || result.status === 401) && headerProblems(result.headers).length === 0;
      }),
      params,
    );
    expect(accepted.header).toBeGreaterThan(RUNS / 100);
  });
});

// ---- issuers -----------------------------------------------------------------------------------------

const resolved = resolveIssuer({ issuerURL: `${ORIGIN}/v1/apps/agentic/${P}/${M}` });
const matches = createIssuerMatcher(resolved);
const seg = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const family = fc.oneof(
  seg.map((m) => `${ORIGIN}/v1/apps/agentic/${P}/${m}`),
  fc.constant(`${ORIGIN}/v1/apps/${P}`),
  seg.map((t) => `${ORIGIN}/v1/apps/${P}/${t}`),
  fc.constant(`${ORIGIN}/${P}`),
  fc.constant(P),
);
/** One edit of a family member: insert, replace or delete a character, or change case. */
const mutated = fc
  .tuple(
    family,
    fc.nat(),
    fc.constantFrom("insert", "replace", "delete", "upper"),
    fc.constantFrom(...".-/%:@?#\\ \t\nAZaz09é", "../", "%2e", "%2F", "//", OTHER_P),
  )
  .map(([base, at, op, ch]) => {
    const i = at % (base.length + 1);
    if (op === "insert") return base.slice(0, i) + ch + base.slice(i);
    if (op === "replace") return base.slice(0, i) + ch + base.slice(i + 1);
    if (op === "delete") return base.slice(0, i) + base.slice(i + 1);
    return base.toUpperCase();
  });
const issuerCandidate = fc.oneof(
  { weight: 2, arbitrary: family },
  { weight: 6, arbitrary: mutated },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 80 }) },
  { weight: 1, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  { weight: 1, arbitrary: fc.anything() },
);
/** An independent statement of the accepted family: exact strings only, no URL normalisation. */
function inFamily(iss: unknown): boolean {
  if (typeof iss !== "string") return false;
  if (iss === P || iss === resolved.issuer) return true;
  if (!iss.startsWith(`${ORIGIN}/`)) return false;
  const path = iss.slice(ORIGIN.length);
  const s = "[A-Za-z0-9_-]{1,128}";
  return new RegExp(`^/(v1/apps/agentic/${P}/${s}|v1/apps/${P}(/${s})?|${P})$`).test(path);
}

const urlish = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc
    .tuple(
      fc.constantFrom("https://api.descope.com", "http://127.0.0.1:4000", "https://x.example"),
      fc.string({ maxLength: 60 }),
    )
    .map(([o, p]) => o + p),
  fc
    .tuple(
      fc.constantFrom("https://api.descope.com", "https://api.euc1.descope.com"),
      fc.constantFrom("/v1/apps/agentic/", "/v1/apps/", "/", "/.well-known/oauth-authorization-server/v1/apps/"),
      fc.constantFrom(P, OTHER_P, "P2short", "Peuc12345678901234567890123456789", "v1"),
      fc.constantFrom("", `/${M}`, "/.well-known/openid-configuration", "/", "?x", "#f", "/%2e%2e/x"),
    )
    .map((parts) => parts.join("")),
);
const issuerInput = fc.record(
  {
    issuerURL: urlish,
    wellKnownURL: urlish,
    projectId: fc.oneof(fc.constantFrom(P, OTHER_P, "Peuc12345678901234567890123456789"), fc.string({ maxLength: 34 })),
    descopeBaseURL: urlish,
  },
  { requiredKeys: [] },
);

describe("fuzz: issuer parsing", () => {
  it(`accepts exactly the configured project's issuer family on its origin (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(issuerCandidate, (iss) => {
        stats.issuer++;
        if (matches(iss)) accepted.issuer++;
        return matches(iss) === inFamily(iss);
      }),
      params,
    );
    expect(accepted.issuer).toBeGreaterThan(RUNS / 20);
  });

  it(`parses any configuration into a consistent issuer or one ConfigurationError (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(issuerInput, (input) => {
        stats.issuer++;
        let r: ReturnType<typeof resolveIssuer>;
        try {
          r = resolveIssuer(input);
        } catch (e) {
          return e instanceof ConfigurationError;
        }
        const m = createIssuerMatcher(r);
        return (
          isProjectId(r.projectId) &&
          new URL(r.issuer).origin === r.origins[0] &&
          /^https?:\/\//.test(r.discoveryURL) &&
          r.fallbackJwksURL === `${r.apiBaseURL}/${r.projectId}/.well-known/jwks.json` &&
          m(r.issuer) &&
          m(r.projectId) &&
          // The same issuer with another project's ID is never accepted.
          (!r.issuer.includes(r.projectId) || !m(r.issuer.replace(r.projectId, r.projectId === OTHER_P ? P : OTHER_P)))
        );
      }),
      params,
    );
  });
});

// ---- scopes ------------------------------------------------------------------------------------------

const scope = fc.stringMatching(/^[ab:*]{1,5}$/);
const scopes = fc.array(scope, { maxLength: 6 });
/** Independent statement of the hierarchy: equal, or `x:*` covering anything strictly below `x:`. */
const covers = (g: string, r: string) =>
  g === r || (g.length > 2 && g.endsWith(":*") && r.length > g.length - 1 && r.startsWith(g.slice(0, -1)));

const toolName = fc.constantFrom("write_note", "whoami", "admin", "__proto__", "constructor", "write_note ");
const message = fc.oneof(
  toolName.map((name) => ({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } })),
  fc.constant({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
  fc.constant({ jsonrpc: "2.0", method: "notifications/initialized" }),
  fc.jsonValue({ maxDepth: 2 }),
);
const rpcBody = fc.oneof(message, fc.array(message, { maxLength: 5 }));
const policy = {
  requiredScopes: ["openid"],
  toolScopes: { write_note: ["notes:write"], admin: ["admin", "notes:write"] },
};
/** The tool calls a transport would dispatch (top level or one batch level). */
const dispatched = (body: unknown): string[] =>
  (Array.isArray(body) ? body : [body]).flatMap((m) => {
    const msg = m as { method?: unknown; params?: { name?: unknown } | null } | null;
    return msg && typeof msg === "object" && msg.method === "tools/call" && typeof msg.params?.name === "string"
      ? [msg.params.name]
      : [];
  });

describe("fuzz: scope matching", () => {
  it(`matches the hierarchy oracle and reports missing scopes exactly (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(scopes, scopes, (granted, required) => {
        stats.scopes++;
        for (const g of granted) for (const r of required) if (scopeCovers(g, r) !== covers(g, r)) return false;
        const missing = missingScopes(granted, required);
        const expected = [...new Set(required.filter((r) => !granted.some((g) => covers(g, r))))];
        if (JSON.stringify(missing) !== JSON.stringify(expected)) return false;
        try {
          requireScopes(granted, required);
          return missing.length === 0;
        } catch (e) {
          if (!(e instanceof InsufficientScopeError) || missing.length === 0) return false;
          return (
            JSON.stringify(e.missingScopes) === JSON.stringify(missing) &&
            required.every((r) => e.combinedScopes.includes(r)) &&
            createResult(e).status === 403 &&
            headerProblems(createResult(e).headers).length === 0
          );
        }
      }),
      params,
    );
  });

  it(`requires every dispatched tool's scopes, however the body is sent (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(rpcBody, fc.constantFrom("object", "text", "bom", "bytes"), (body, form) => {
        stats.scopes++;
        const text = JSON.stringify(body);
        const sent =
          form === "object"
            ? body
            : form === "text"
              ? text
              : form === "bom"
                ? `\uFEFF${text}`
                : new TextEncoder().encode(text);
        const { scopes: needed } = scopesForRequest(sent, policy);
        const wanted = new Set(["openid"]);
        for (const name of dispatched(body)) {
          if (Object.hasOwn(policy.toolScopes, name)) {
            for (const s of policy.toolScopes[name as keyof typeof policy.toolScopes]) wanted.add(s);
          }
        }
        return [...wanted].every((s) => needed.includes(s)) && needed.every((s) => wanted.has(s));
      }),
      params,
    );
  });
});

// ---- challenges --------------------------------------------------------------------------------------

const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.constantFrom('"', "\\", '\\"', "\r\n", "\u0000"),
);
const knownError = fc.oneof(
  anyText.map((m) => new InvalidTokenError(m)),
  anyText.map((m) => new InvalidRequestError(m)),
  anyText.map((m) => new UnauthorizedError(m)),
  anyText.map((m) => new TokenExpiredError(m)),
  fc
    .tuple(fc.array(anyText, { maxLength: 4 }), fc.array(anyText, { maxLength: 4 }))
    .map(
      ([required, token]) =>
        new InsufficientScopeError({ requiredScopes: required, missingScopes: required, tokenScopes: token }),
    ),
  fc
    .tuple(anyText, fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e300, -5, 0)))
    .map(([m, s]) => new UpstreamUnavailableError(m, s)),
  anyText.map((m) => new UpstreamError(m, 400)),
  anyText.map((m) => new ConnectionNotFoundError("app", m)),
  anyText.map((m) => new ConnectionDeniedError("app", m)),
  anyText.map((m) => new UserNotFoundError(m)),
);

describe("fuzz: challenge building", () => {
  it(`buildChallenge escapes any value into one strictly parseable, printable header (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.option(anyText, { nil: undefined }),
        fc.option(anyText, { nil: undefined }),
        fc.option(fc.array(anyText, { maxLength: 4 }), { nil: undefined }),
        (error, description, scope) => {
          stats.challenge++;
          const header = buildChallenge({ error, errorDescription: description, scope, resourceMetadata: PRM });
          const parsed = parseChallenge(header);
          if (parsed?.scheme !== "Bearer") return false;
          const got = new Map(parsed.params);
          if (error && got.get("error") !== sanitised(error)) return false;
          if (error && description && got.get("error_description") !== sanitised(description)) return false;
          if (scope?.length && got.get("scope") !== sanitised(scope.join(" "))) return false;
          return got.get("resource_metadata") === PRM && parsed.params.length === got.size;
        },
      ),
      params,
    );
  });

  it(`errorResult never answers 500 for a typed error, and always answers safe headers (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: knownError }, { weight: 1, arbitrary: fc.anything() }), (thrown) => {
        stats.challenge++;
        const result = createResult(thrown);
        if (headerProblems(result.headers).length > 0) return false;
        const body = JSON.parse(result.body) as { error?: unknown };
        if (typeof body.error !== "string") return false;
        if (thrown instanceof DescopeMcpError && !(thrown instanceof ConfigurationError))
          return result.status < 500 || result.status === 502 || result.status === 503;
        return result.status === 500 && body.error === "server_error";
      }),
      params,
    );
  });
});

// ---- the whole decision, end to end (fewer runs: real signature checks) -------------------------------

describe("fuzz: authenticate end to end", () => {
  let emu: DescopeEmulator;
  let valid: string;
  let auth: ReturnType<typeof createDescopeMcpAuth>;
  beforeAll(async () => {
    emu = await startDescopeEmulator({ audience: "https://mcp.example.com/mcp" });
    auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: "https://mcp.example.com", ...EXAMPLE_POLICY });
    valid = await emu.mintToken({ scope: "openid" });
  });
  afterAll(() => emu?.close());

  const RUNS_E2E = FULL ? 20_000 : 2_000;
  it(`never answers 500 and never lets write_note through without notes:write (${RUNS_E2E} runs)`, async () => {
    const header = fc.oneof(
      headerValue,
      fc
        .tuple(fc.constantFrom("Bearer ", "bearer  ", "Bearer\t", " Bearer "), tokenish, fc.constantFrom("", " ", "x"))
        .map(([s, junk, tail]) => `${s}${valid}${junk}${tail}`),
      fc.constant(`Bearer ${"VALID"}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(header, fc.array(header, { maxLength: 2 })), rpcBody, async (h, body) => {
        stats.authenticate++;
        const authz = Array.isArray(h) ? h.map((v) => v.replace("VALID", valid)) : h.replace("VALID", valid);
        try {
          await auth.authenticate({ authorization: authz, url: "/mcp" }, { body });
          accepted.authenticate++;
          return !dispatched(body).includes("write_note");
        } catch (e) {
          const r = auth.errorResult(e);
          return r.status !== 500 && headerProblems(r.headers).length === 0;
        }
      }),
      { seed: SEED, numRuns: RUNS_E2E },
    );
    expect(accepted.authenticate).toBeGreaterThan(RUNS_E2E / 50);
  });
});

it("the strict challenge parser refuses what it must", () => {
  expect(parseChallenge('Bearer error="a", scope="b"')).toEqual({
    scheme: "Bearer",
    params: [
      ["error", "a"],
      ["scope", "b"],
    ],
  });
  expect(parseChallenge('Bearer scope="a\\"b"')?.params).toEqual([["scope", 'a"b']]);
  for (const bad of [
    'Bearer scope="a"b"',
    'Bearer scope="a',
    "Bearer scope=a",
    'Bearer scope="a",x="b"',
    'Bearer scope="\r\n"',
    'Bearer scope="\\x"',
  ]) {
    expect(parseChallenge(bad)).toBeUndefined();
  }
});
