// No super-linear work on anything a client sends (SECURITY.md R22). Each case times a worst-case
// input against a normal input of the same size, in the same run, and bounds the ratio: a linear
// algorithm keeps it near 1, a quadratic one (the old `/^ +| +$/g` trim cost ~90 ms on 16 KiB of
// spaces) puts it in the hundreds. Only ratios are asserted, never absolute times.
import { describe, expect, it } from "vitest";
import {
  checkBodyHeaders,
  extractBearerToken,
  isUnderMcpPath,
  quoteHeaderValue,
  scopesForRequest,
  scopesFromClaims,
} from "../src/index.js";

/**
 * Time per call of `fn`: the fastest of `samples` runs, each repeating it until at least `sampleMs`
 * passed. The minimum, not the mean: interference from the rest of the machine only ever adds time,
 * so the fastest run is the one closest to the code's own cost.
 */
function perCall(fn: () => void, samples = 9, sampleMs = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let s = 0; s < samples; s++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      fn();
      calls++;
      elapsed = performance.now() - start;
    } while (elapsed < sampleMs);
    best = Math.min(best, elapsed / calls);
  }
  return best;
}

/** Runs `fn`, swallowing the typed refusals a hostile input earns (only the time matters here). */
const quietly = (fn: () => unknown) => () => {
  try {
    fn();
  } catch {
    // refused, as it should be
  }
};

/** The time ratio a/b, from interleaved rounds (so a burst of load falls on both), fastest of each. */
function ratio(a: () => void, b: () => void): number {
  perCall(a, 2, 2); // warm both up (JIT)
  perCall(b, 2, 2);
  let ta = Number.POSITIVE_INFINITY;
  let tb = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    ta = Math.min(ta, perCall(a));
    tb = Math.min(tb, perCall(b));
  }
  return ta / tb;
}

const SIZE = 16 * 1024; // Node's whole header section limit

/**
 * Two measurements, each a ratio taken in one run:
 * - growth: the worst case at the full size against itself at a quarter of it — about 4 for linear
 *   code, 16 for quadratic code (the old trim measured 18);
 * - the worst case against a normal input of the same size — a constant for linear code (up to ~50:
 *   a query of 16 Ki separators is split into 16 Ki empty pairs, while 16 Ki letters are one), in the
 *   thousands for quadratic code at 16 KiB. The bound, 200, leaves room for a loaded machine.
 */
function expectLinear(worst: (n: number) => () => void, normal: (n: number) => () => void, n = SIZE): void {
  // Growth from n/4 to n: both sizes stay in the CPU's caches, so linear code measures close to 4.
  const growth = ratio(worst(n), worst(n / 4));
  const versusNormal = ratio(worst(n), normal(n));
  expect(
    { growth: growth < 10, versusNormal: versusNormal < 200 },
    `growth ${growth}, worst/normal ${versusNormal}`,
  ).toEqual({
    growth: true,
    versusNormal: true,
  });
}

describe("worst-case inputs cost what normal inputs of the same size cost", () => {
  it("Authorization: `Bearer` + 16 KiB of spaces + `x` (the quadratic-trim input)", () => {
    expectLinear(
      (n) => quietly(() => extractBearerToken({ authorization: `Bearer${" ".repeat(n)}x` })),
      (n) => quietly(() => extractBearerToken({ authorization: `Bearer ${"a".repeat(n)}` })),
    );
  });

  it("Authorization: spaces, a tab, and more spaces (never a match)", () => {
    expectLinear(
      (n) => quietly(() => extractBearerToken({ authorization: `${" ".repeat(n / 2)}\t${" ".repeat(n / 2)}` })),
      (n) => quietly(() => extractBearerToken({ authorization: `Bearer ${"a".repeat(n)}` })),
    );
  });

  it("the query-string token check on a query of separators", () => {
    const authorization = "Bearer abc";
    expectLinear(
      (n) => quietly(() => extractBearerToken({ authorization, url: `/mcp?${"&".repeat(n)}` })),
      (n) => quietly(() => extractBearerToken({ authorization, url: `/mcp?${"a".repeat(n)}` })),
    );
  });

  it("path matching: runs of slashes, and percent-escapes", () => {
    expectLinear(
      (n) => () => isUnderMcpPath(`${"/".repeat(n)}x`, "/mcp"),
      (n) => () => isUnderMcpPath(`/${"a".repeat(n)}`, "/mcp"),
    );
    expectLinear(
      (n) => () => isUnderMcpPath("/%2F".repeat(n / 4), "/mcp"),
      (n) => () => isUnderMcpPath(`/${"a".repeat(n)}`, "/mcp"),
    );
  });

  it("Content-Type parameters: semicolons, parameters without `=`, an unterminated quoted charset", () => {
    const check = (contentType: string) => quietly(() => checkBodyHeaders({ contentType }));
    // Normal: as many ordinary parameters as the worst case has pieces.
    const normal = (n: number) => check(`application/json${"; a=b".repeat(n / 5)}`);
    expectLinear((n) => check(`application/json${";".repeat(n)}`), normal);
    expectLinear((n) => check(`application/json${";a".repeat(n / 2)}=`), normal);
    expectLinear((n) => check(`application/json; charset="${"u".repeat(n)}`), normal);
  });

  it("scope strings: spaces around one scope", () => {
    expectLinear(
      (n) => () => scopesFromClaims({ scope: `${" ".repeat(n / 2)}notes:read${" ".repeat(n / 2)}` }),
      (n) => () => scopesFromClaims({ scope: "s ".repeat(n / 2) }),
    );
  });

  it("challenge quoting: control characters, quotes and backslashes", () => {
    expectLinear(
      (n) => () => quoteHeaderValue('\u0001\\\u0002"'.repeat(n / 4)),
      (n) => () => quoteHeaderValue("a".repeat(n)),
    );
  });

  it("JSON-RPC inspection: batches of tool calls with scopes against batches of other calls", () => {
    const policy = { requiredScopes: ["a"], toolScopes: { write_note: ["notes:write"], purge: ["x", "y"] } };
    const call = (name: string, id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name } });
    const batch = (n: number) => Array.from({ length: n }, (_, i) => call(i % 2 ? "write_note" : "purge", i));
    const unscoped = (n: number) => Array.from({ length: n }, (_, i) => call("whoami", i));
    expectLinear(
      (n) => {
        const body = batch(n);
        return () => scopesForRequest(body, policy);
      },
      (n) => {
        const body = unscoped(n);
        return () => scopesForRequest(body, policy);
      },
      2000,
    );
  });
});
