// The hostile-request corpus against the core engine: `authenticate(new Request(…), { body })` + `errorResult`.
import {
  type AuthenticateInput,
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  type DescopeMcpAuthOptions,
} from "@descope-mcp/core";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Answer, checkAnswer } from "./check.js";
import {
  CORPUS,
  type CorpusContext,
  EXAMPLE_POLICY,
  expectationFor,
  type HostileCase,
  type HostileRequest,
  RULES,
  requestParts,
} from "./corpus.js";
import { jsonOrUndefined, Tally } from "./lib.js";

const BASE_URL = "https://mcp.example.com";

let emu: DescopeEmulator;
let auth: DescopeMcpAuth;
let ctx: CorpusContext;
const tally = new Tally("core");

const engine = (extra: Partial<DescopeMcpAuthOptions> = {}) =>
  createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL, ...EXAMPLE_POLICY, ...extra });

beforeAll(async () => {
  emu = await startDescopeEmulator();
  auth = engine();
  ctx = { emu, resource: auth.config.resourceURL, prm: auth.config.resourceMetadataURL, mcpPath: auth.config.mcpPath };
});
afterAll(async () => {
  console.log(tally.line());
  await emu?.close();
});

/**
 * What a framework hands the core: a Web `Request` when one can carry the headers; otherwise (two
 * Authorization headers, CR/LF/NUL, characters above U+00FF) the plain input shape Node adapters use,
 * with every value as received. The body is the parsed JSON when it parses, else the text as received.
 */
function coreInput(spec: HostileRequest): { input: Request | AuthenticateInput; body: unknown } {
  const { method, body, headers, pathAndQuery } = requestParts(ctx, spec);
  const url = `${new URL(ctx.resource).origin}${pathAndQuery}`;
  const authorization = headers.filter(([n]) => n.toLowerCase() === "authorization").map(([, v]) => v);
  const parsed = body === undefined ? undefined : (jsonOrUndefined(body) ?? (body === "null" ? null : body));
  if (authorization.length <= 1) {
    try {
      return { input: new Request(url, { method, headers, body }), body: parsed };
    } catch {
      // A Web Request refuses the header: fall through to the plain shape.
    }
  }
  return { input: { authorization, url }, body: parsed };
}

async function answer(engineUnderTest: DescopeMcpAuth, kase: HostileCase): Promise<Answer> {
  const token = kase.token ? await kase.token(ctx) : "";
  const { input, body } = coreInput(kase.request(ctx, token));
  try {
    await engineUnderTest.authenticate(input, { body });
    return { status: 200, headers: {}, body: undefined };
  } catch (error) {
    const r = engineUnderTest.errorResult(error);
    const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), [v]]));
    return { status: r.status, headers, body: jsonOrUndefined(r.body) };
  }
}

const cases = CORPUS.filter((k) => expectationFor(k, "core")).map((k) => [`[${k.rule}] ${k.name}`, k] as const);

describe("hostile corpus against the core", () => {
  it("has at least 60 cases, each naming a known rule", () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    for (const [, k] of cases) expect(RULES[k.rule]).toBeTruthy();
  });

  it.each(cases)("%s", async (name, kase) => {
    const expected = expectationFor(kase, "core")!;
    let target = auth;
    let upstreamCalls = 0;
    if (kase.precrypto) {
      // A cold engine: refusing the case must not cost a discovery or JWKS fetch (no key lookup, no crypto).
      target = engine({
        fetch: (input, init) => {
          upstreamCalls++;
          return fetch(input, init);
        },
      });
    }
    const got = await answer(target, kase);
    const problems = checkAnswer(ctx, expected, got);
    if (kase.precrypto && upstreamCalls > 0) problems.push(`${upstreamCalls} upstream call(s) before refusing`);
    tally.record(name, expected.status, got.status, problems.length === 0);
    expect(problems).toEqual([]);
  });
});
