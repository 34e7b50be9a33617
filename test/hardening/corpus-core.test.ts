// The hostile-request corpus against the core engine: `gate({ method, headers…, readBody })`, the
// decision every adapter translates.
import {
  createDescopeMcpAuth,
  type DescopeMcpAuth,
  type DescopeMcpAuthOptions,
  type GateInput,
  readRequestBytes,
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
 * What a framework hands the core's gate: the header values as a Web `Request` normalizes them
 * (optional whitespace trimmed) when one can carry them; otherwise (two Authorization headers, CR/LF/NUL,
 * characters above U+00FF) every value as received. The body is read by the reader every Web host
 * uses, bounded by the limit the core asks for.
 */
function coreInput(spec: HostileRequest): GateInput {
  const { method, body, headers, pathAndQuery } = requestParts(ctx, spec);
  const url = `${new URL(ctx.resource).origin}${pathAndQuery}`;
  const all = (name: string) => headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  let get = (name: string): string | undefined => all(name)[0];
  let authorization: string | string[] | null = all("authorization");
  if (authorization.length <= 1) {
    try {
      const normalized = new Request(url, { method: "POST", headers }).headers;
      get = (name) => normalized.get(name) ?? undefined;
      authorization = normalized.get("authorization");
    } catch {
      // A Web Request refuses the header: keep the values as received.
    }
  }
  return {
    method,
    url,
    authorization,
    bodyHeaders: {
      contentType: get("content-type"),
      contentEncoding: get("content-encoding"),
      contentLength: get("content-length"),
    },
    readBody: (limit) => readRequestBytes(new Request(url, { method: "POST", body: body ?? "" }), limit),
  };
}

async function answer(engineUnderTest: DescopeMcpAuth, kase: HostileCase): Promise<Answer> {
  const token = kase.token ? await kase.token(ctx) : "";
  const outcome = await engineUnderTest.gate(coreInput(kase.request(ctx, token)));
  if (outcome.allow !== false) return { status: outcome.allow === true ? 200 : 204, headers: {}, body: undefined };
  const r = outcome.result;
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), [v]]));
  return { status: r.status, headers, body: jsonOrUndefined(r.body) };
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
