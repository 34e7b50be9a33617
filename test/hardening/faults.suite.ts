// Upstream faults over real HTTP against a built example (one file per target under faults/): Descope's discovery, JWKS and
// connection-token endpoints slow, refusing connections, answering 500 or malformed JSON, and keys
// rotating under load. (The core-level fault tests live in packages/core/test/keys.test.ts and
// metadata.test.ts; these check what a client of the running server sees.)
//
// Every scenario has its own emulator and its own example process (a cold cache), so they run
// concurrently. The example uses the core defaults: 5 s discovery/JWKS time-box, 10 s for connection
// tokens, 2 s failure back-off, 30 s unknown-kid cool-down.
import { type DescopeEmulator, type Fault, startDescopeEmulator } from "@descope-mcp/testing";
import { describe, expect, it } from "vitest";
import { startExample } from "../../e2e/servers.mjs";
import { jsonOrUndefined, sleep } from "./lib.js";

const CAL_APP = "google-calendar";
const CAL = "https://www.googleapis.com/auth/calendar.readonly";
const ACCEPT = "application/json, text/event-stream";
/** The slow faults wait far longer than any time-box, so a fast answer proves the time-box. */
const HANG_MS = 20_000;

type Server = Awaited<ReturnType<typeof startExample>>;

interface Scenario {
  emu: DescopeEmulator;
  server: Server;
  token(claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

let minted = 0;

/** An emulator and the example against it; with `managementKey`, both share that key. */
async function scenario(framework: string, managementKey?: string): Promise<Scenario> {
  const emu = await startDescopeEmulator({
    connections: { [CAL_APP]: { status: "connected", scopes: [CAL] } },
    ...(managementKey ? { managementKey } : {}),
  });
  const server = await startExample(framework, {
    DESCOPE_ISSUER_URL: emu.issuerURL,
    ...(managementKey ? { DESCOPE_MANAGEMENT_KEY: managementKey } : {}),
  });
  return {
    emu,
    server,
    // A fresh token every time (distinct jti): the server's verified-token and connection-token caches
    // must not be what answers when the point is to reach Descope.
    token: (claims = {}) =>
      emu.mintToken({ aud: server.mcpURL, scope: "openid outbound.token.fetch", jti: `t${++minted}`, ...claims }),
    close: async () => {
      await server.stop();
      await emu.close();
    },
  };
}

const call = (name: string, id = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } });

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | undefined;
  ms: number;
}

async function post(s: Scenario, token: string, body = call("whoami")): Promise<Reply> {
  const started = performance.now();
  const r = await fetch(s.server.mcpURL, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: ACCEPT },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  return {
    status: r.status,
    headers: r.headers,
    text,
    json: jsonOrUndefined(text) as Record<string, unknown> | undefined,
    ms: performance.now() - started,
  };
}

async function get(s: Scenario, path: string): Promise<Reply> {
  const started = performance.now();
  const r = await fetch(`${s.server.baseURL}${path}`, { signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  return {
    status: r.status,
    headers: r.headers,
    text,
    json: jsonOrUndefined(text) as Record<string, unknown> | undefined,
    ms: performance.now() - started,
  };
}

/** A 200, or a failure that shows what the server answered instead (a 503 says which upstream call failed). */
function expectOk(r: Reply) {
  expect(r.status, `HTTP ${r.status}: ${r.text.slice(0, 300)}`).toBe(200);
}

/**
 * Has a fresh server fetch Descope's keys before a test whose subject comes after them (the
 * connection-token API): one valid call must pass. A 503 is retried after its Retry-After, twice at
 * most: on a loaded machine a server's very first request can outrun the 5 s discovery/JWKS budget,
 * and that path has tests of its own above.
 */
async function warmUp(s: Scenario) {
  let r = await post(s, await s.token());
  for (let retry = 0; retry < 2 && r.status === 503; retry++) {
    await sleep(Number(r.headers.get("retry-after") ?? 1) * 1000);
    r = await post(s, await s.token());
  }
  expectOk(r);
}

/** A 503 the way clients must see it: Retry-After in whole seconds, a clear JSON error, no challenge. */
function expectUnavailable(r: Reply, description: RegExp) {
  expect(r.status).toBe(503);
  expect(r.headers.get("retry-after")).toMatch(/^[1-9]\d{0,3}$/);
  expect(r.headers.get("www-authenticate")).toBeNull();
  expect(r.json).toEqual({ error: "temporarily_unavailable", error_description: expect.stringMatching(description) });
}

/** Polls (at most `tries` times) until a valid token passes again; returns how many tries it took. */
async function recovers(s: Scenario, tries = 30): Promise<number> {
  const token = await s.token();
  for (let i = 1; i <= tries; i++) {
    if ((await post(s, token)).status === 200) return i;
    await sleep(250);
  }
  throw new Error(`no recovery after ${tries} tries`);
}

const jwksHits = (emu: DescopeEmulator) =>
  emu.requests.filter(
    (r) => r.path === `/${emu.projectId}/.well-known/jwks.json` || r.path === `/v2/keys/${emu.projectId}`,
  ).length;
const discoveryHits = (emu: DescopeEmulator) =>
  emu.requests.filter((r) => /\/\.well-known\/(openid-configuration|oauth-authorization-server)/.test(r.path)).length;

/** Runs `count` calls of `fn` with at most `concurrency` in flight. */
async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

function toolText(r: Reply): { text: string; isError: boolean } {
  const result = (r.json?.result ?? {}) as { content?: Array<{ text?: string }>; isError?: boolean };
  return { text: result.content?.[0]?.text ?? "", isError: result.isError === true };
}

/** No piece of the token (any 40 characters of it) may appear anywhere a client or a log could see. */
function expectNoToken(token: string, ...texts: string[]) {
  for (const t of texts) {
    for (let i = 0; i + 40 <= token.length; i += 20) {
      if (t.includes(token.slice(i, i + 40)))
        throw new Error(`the token (characters ${i}…${i + 40}) leaked: ${t.slice(0, 300)}`);
    }
  }
}

/**
 * The upstream-fault suites against one example target, one test file per target
 * (test/hardening/faults/<target>.test.ts) so that the targets run in parallel workers.
 */
export function describeFaults(framework: string): void {
  describe(`upstream faults over HTTP against the ${framework} example`, () => {
    describe.concurrent("cold start, Descope unhealthy", () => {
      it("rotation: after a key rotation (past the cool-down) no valid token is refused, with one refetch under load", async () => {
        const s = await scenario(framework);
        try {
          expectOk(await post(s, await s.token()));
          const warmedAt = Date.now();
          // Signed by the old key, never seen by the server: they need the cached key, not the token cache.
          const oldTokens = await Promise.all(Array.from({ length: 10 }, () => s.token()));
          // The unknown-kid cool-down (30 s) counts from the last JWKS fetch: wait it out (bounded).
          await sleep(Math.max(0, 31_000 - (Date.now() - warmedAt)));
          const before = jwksHits(s.emu);
          await s.emu.rotateKeys();
          const newTokens = await Promise.all(Array.from({ length: 10 }, () => s.token()));
          // The first new-kid token triggers the one refetch; the load follows (see the known bug below
          // for new-kid requests that arrive while that refetch is in flight).
          expectOk(await post(s, await s.token()));
          const results = await pool(200, 20, (i) =>
            post(s, (i % 2 === 0 ? newTokens : oldTokens)[Math.floor(i / 2) % 10] as string).then((r) => r.status),
          );
          expect(results.filter((st) => st !== 200)).toEqual([]);
          expect(jwksHits(s.emu) - before).toBe(1);
          // Old keys retired at Descope stay trusted until the cache refreshes (jwksMaxAgeSeconds, 600 s).
          s.emu.retireOldKeys();
          expectOk(await post(s, await s.token()));
          // Hostile tokens in the same window are still refused.
          expect((await post(s, await s.emu.tokens.unknownKid({ aud: s.server.mcpURL }))).status).toBe(401);
        } finally {
          await s.close();
        }
      }, 120_000);

      it("new-kid tokens arriving while the one refetch after a rotation is in flight join it instead of being refused", async () => {
        const s = await scenario(framework);
        try {
          expectOk(await post(s, await s.token()));
          await s.emu.rotateKeys();
          const fresh = await Promise.all(Array.from({ length: 20 }, () => s.token()));
          s.emu.setFault("jwks", { delayMs: 500 }); // a refetch that takes a moment, as over a real network
          const results = await Promise.all(fresh.map((t) => post(s, t).then((r) => r.status)));
          expect(results.filter((st) => st !== 200)).toEqual([]);
        } finally {
          await s.close();
        }
      }, 120_000);

      it("a rotation right after the last JWKS fetch is followed with one refetch; no valid new-key token is refused", async () => {
        const s = await scenario(framework);
        try {
          expectOk(await post(s, await s.token()));
          const before = jwksHits(s.emu);
          await s.emu.rotateKeys();
          const fresh = await s.token();
          const results = await pool(100, 20, () => post(s, fresh).then((r) => r.status));
          expect(results.filter((st) => st !== 200)).toEqual([]);
          expect(jwksHits(s.emu) - before).toBe(1);
        } finally {
          await s.close();
        }
      }, 90_000);

      it("Descope refusing connections: 503 + Retry-After at once, PRM still served, recovery without restart", async () => {
        const s = await scenario(framework);
        try {
          const token = await s.token();
          await s.emu.suspend();
          const r = await post(s, token);
          expectUnavailable(r, /JWKS could not be reached/);
          expect(r.ms).toBeLessThan(3000);
          expect(r.text.includes(token)).toBe(false);
          // Inside the back-off window: fail fast.
          const again = await post(s, token);
          expectUnavailable(again, /JWKS/);
          expect(again.ms).toBeLessThan(1000);
          expectUnavailable(await get(s, "/.well-known/oauth-authorization-server"), /discovery document/);
          expect((await get(s, "/.well-known/oauth-protected-resource/mcp")).status).toBe(200);
          await s.emu.resume();
          const pid = s.server.port;
          expect(await recovers(s)).toBeLessThanOrEqual(20);
          expect(s.server.port).toBe(pid);
          expect((await get(s, "/.well-known/oauth-authorization-server")).status).toBe(200);
        } finally {
          await s.emu.resume().catch(() => undefined);
          await s.close();
        }
      }, 90_000);

      it("JWKS answering 500, then malformed JSON, then a dropped connection: 503 each time, failing fast in between, then recovery", async () => {
        const s = await scenario(framework);
        try {
          const token = await s.token();
          s.emu.setFault("jwks", { status: 500 });
          expectUnavailable(await post(s, token), /JWKS answered HTTP 500/);
          const hits = jwksHits(s.emu);
          const fast = await post(s, token);
          expectUnavailable(fast, /JWKS/);
          expect(jwksHits(s.emu)).toBe(hits); // the back-off spares Descope
          s.emu.setFault("jwks", { status: 200, body: "{not json" });
          await sleep(2100);
          expectUnavailable(await post(s, token), /JWKS answered malformed JSON/);
          s.emu.setFault("jwks", { destroy: true });
          await sleep(2100);
          expectUnavailable(await post(s, token), /JWKS could not be reached/);
          s.emu.setFault("jwks", undefined);
          expect(await recovers(s)).toBeLessThanOrEqual(20);
        } finally {
          await s.close();
        }
      }, 90_000);

      it("JWKS hanging: 20 concurrent requests share one fetch and all get 503 within the 5 s time-box", async () => {
        const s = await scenario(framework);
        try {
          const token = await s.token();
          s.emu.setFault("jwks", { delayMs: HANG_MS });
          const replies = await Promise.all(Array.from({ length: 20 }, () => post(s, token)));
          for (const r of replies) {
            expectUnavailable(r, /signing keys \(JWKS\) could not be loaded within this request's time limit/);
            expect(r.ms).toBeLessThan(9000);
          }
          expect(jwksHits(s.emu)).toBe(1);
          s.emu.setFault("jwks", undefined);
          expect(await recovers(s)).toBeLessThanOrEqual(20);
        } finally {
          await s.close();
        }
      }, 90_000);

      it("discovery hanging: tokens still pass via the well-known JWKS within the request's one 5 s budget; AS metadata 503 until it recovers", async () => {
        const s = await scenario(framework);
        try {
          const token = await s.token();
          s.emu.setFault("discovery", { delayMs: HANG_MS });
          const r = await post(s, token);
          expectOk(r);
          // Discovery gets half the budget (2.5 s), then the well-known JWKS answers at once.
          expect(r.ms).toBeGreaterThan(2000);
          expect(r.ms).toBeLessThan(5000);
          expectUnavailable(await get(s, "/.well-known/oauth-authorization-server"), /discovery document/);
          s.emu.setFault("discovery", undefined);
          let status = 0;
          for (let i = 0; i < 30 && status !== 200; i++) {
            if (i) await sleep(250);
            status = (await get(s, "/.well-known/oauth-authorization-server")).status;
          }
          expect(status).toBe(200);
        } finally {
          await s.close();
        }
      }, 90_000);

      it("discovery and JWKS both hanging on a cold start: one 5 s deadline for the request, not 5 s per fetch", async () => {
        const s = await scenario(framework);
        try {
          const token = await s.token();
          s.emu.setFault("discovery", { delayMs: HANG_MS });
          s.emu.setFault("jwks", { delayMs: HANG_MS });
          const r = await post(s, token);
          expectUnavailable(r, /could not be loaded within this request's time limit/);
          // Before: 5 s for discovery, then 5 s more for the JWKS (about 10 s).
          expect(r.ms).toBeGreaterThan(4500);
          expect(r.ms).toBeLessThan(7500);
        } finally {
          await s.close();
        }
      }, 90_000);

      it("discovery answering 500 or malformed JSON: tokens pass via the fallback JWKS; AS metadata 503 with Retry-After", async () => {
        const s = await scenario(framework);
        try {
          s.emu.setFault("discovery", { status: 500 });
          expectOk(await post(s, await s.token()));
          expectUnavailable(
            await get(s, "/.well-known/oauth-authorization-server"),
            /discovery document answered HTTP 500/,
          );
          s.emu.setFault("discovery", { status: 200, body: "[1,2" });
          await sleep(2100);
          expectUnavailable(await get(s, "/.well-known/oauth-authorization-server"), /malformed JSON/);
          s.emu.setFault("discovery", undefined);
          await sleep(2100);
          expect((await get(s, "/.well-known/oauth-authorization-server")).status).toBe(200);
        } finally {
          await s.close();
        }
      }, 90_000);

      it("everything answering 500: 503 with a clear error, then recovery without restart", async () => {
        const s = await scenario(framework);
        try {
          s.emu.setFault("all", { status: 500 });
          expectUnavailable(await post(s, await s.token()), /JWKS answered HTTP 500/);
          s.emu.setFault("all", undefined);
          expect(await recovers(s)).toBeLessThanOrEqual(20);
        } finally {
          await s.close();
        }
      }, 90_000);

      it("warm keys: with Descope down, 50 concurrent valid tokens still pass and hostile ones are still refused", async () => {
        const s = await scenario(framework);
        try {
          const token = await s.token();
          expectOk(await post(s, token));
          const hostile = [
            await s.emu.tokens.expired({ aud: s.server.mcpURL }),
            await s.emu.tokens.unknownKid({ aud: s.server.mcpURL }),
            await s.emu.tokens.algNone({ aud: s.server.mcpURL }),
            await s.emu.tokens.wrongAudience(),
          ];
          for (const down of ["suspended", "500"] as const) {
            if (down === "suspended") await s.emu.suspend();
            else s.emu.setFault("all", { status: 500 });
            const fresh = await Promise.all(Array.from({ length: 50 }, () => s.token()));
            const replies = await pool(50, 25, (i) => post(s, fresh[i] as string));
            expect(replies.map((r) => r.status).filter((st) => st !== 200)).toEqual([]);
            expect(Math.max(...replies.map((r) => r.ms))).toBeLessThan(5000);
            for (const t of hostile) expect((await post(s, t)).status).toBe(401);
            if (down === "suspended") {
              // A tool that needs Descope answers a clear tool error, never the token.
              const r = await post(s, token, call("connection_status"));
              expectOk(r);
              expect(toolText(r)).toEqual({
                isError: true,
                text: `Could not check the ${CAL_APP} connection: Descope connection-token API could not be reached`,
              });
              expectNoToken(token, r.text, s.server.output());
              await s.emu.resume();
            } else s.emu.setFault("all", undefined);
          }
        } finally {
          await s.emu.resume().catch(() => undefined);
          await s.close();
        }
      }, 90_000);

      it("connection-token endpoint hanging: a clear tool error after the 10 s time-box, no token in it", async () => {
        const s = await scenario(framework);
        try {
          await warmUp(s);
          const token = await s.token();
          s.emu.setFault("outbound", { delayMs: HANG_MS });
          const r = await post(s, token, call("connection_status"));
          expectOk(r);
          expect(toolText(r)).toEqual({
            isError: true,
            text: `Could not check the ${CAL_APP} connection: Descope connection-token API did not answer within 10000 ms`,
          });
          expect(r.ms).toBeLessThan(14_000);
          expectNoToken(token, r.text, s.server.output());
        } finally {
          await s.close();
        }
      }, 90_000);

      it("connection-token endpoint down or denying: a clear tool error (isError), never the user's token", async () => {
        const s = await scenario(framework);
        const used: string[] = [];
        try {
          /** One connection_status call with a fresh caller token (so no cached connection token answers). */
          const status = async (token?: string) => {
            const t = token ?? (await s.token());
            used.push(t);
            const r = await post(s, t, call("connection_status"));
            expectOk(r);
            expectNoToken(t, r.text);
            return toolText(r);
          };
          await warmUp(s);
          expect(JSON.parse((await status()).text)).toEqual({ appId: CAL_APP, connected: true });
          const prefix = `Could not check the ${CAL_APP} connection: Descope connection-token API`;
          const faults: Array<[Fault, string]> = [
            [{ status: 500 }, `${prefix} answered HTTP 500`],
            [{ status: 503 }, `${prefix} answered HTTP 503`],
            [{ destroy: true }, `${prefix} could not be reached`],
            [{ status: 200, body: "{not json" }, `${prefix} answered malformed JSON`],
            [{ status: 200, body: "{}" }, `${prefix} answered without an access token`],
            [{ status: 401, body: "{}" }, `${prefix} answered HTTP 401`],
          ];
          for (const [fault, text] of faults) {
            const token = await s.token();
            s.emu.setFault("outbound", fault);
            expect(await status(token)).toEqual({ isError: true, text });
          }
          s.emu.setFault("outbound", undefined);
          s.emu.setConnection(CAL_APP, { status: "denied" });
          expect(await status()).toEqual({ isError: true, text: `Access to ${CAL_APP} was denied by Descope policy` });
          // A caller token without outbound.token.fetch is refused by Descope too.
          s.emu.setConnection(CAL_APP, { status: "connected", scopes: [CAL] });
          expect(await status(await s.token({ scope: "openid" }))).toEqual({
            isError: true,
            text: `Access to ${CAL_APP} was denied by Descope policy`,
          });
          s.emu.setConnection(CAL_APP, { status: "not_connected" });
          expect(JSON.parse((await status()).text)).toEqual({ appId: CAL_APP, connected: false });
          const output = s.server.output();
          for (const t of used) expectNoToken(t, output);
        } finally {
          await s.close();
        }
      }, 90_000);

      it("an upstream error quoting any fragment of the caller's token or the management key reaches no tool output", async () => {
        const key = `K2${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
        const s = await scenario(framework, key);
        const fragments = (secret: string) => {
          const signature = secret.split(".")[2] ?? secret;
          return [secret.slice(0, 12), secret.slice(-12), signature.slice(0, -1), signature.slice(1), secret];
        };
        try {
          await warmUp(s);
          for (const [tool, target, secretOf] of [
            ["connection_status", "outbound", (token: string) => token],
            ["profile", "users", () => key],
          ] as const) {
            for (const status of [400, 403, 404]) {
              const token = await s.token();
              const secret = secretOf(token);
              for (const quote of fragments(secret)) {
                s.emu.setFault(target, {
                  status,
                  body: JSON.stringify({ errorCode: "E062108", errorDescription: `bad ${quote}`, errorMessage: quote }),
                });
                const r = await post(s, token, call(tool));
                expectOk(r);
                for (let i = 0; i + 8 <= secret.length; i++) {
                  const piece = secret.slice(i, i + 8);
                  expect(r.text.includes(piece), `${tool} ${status}: "${piece}" leaked in ${r.text}`).toBe(false);
                }
              }
            }
            s.emu.setFault(target, undefined);
          }
          for (const t of [key]) expectNoToken(t, s.server.output());
        } finally {
          await s.close();
        }
      }, 90_000);
    });
  });

  // Discovery and the well-known endpoints are also counted, so a regression to "fetch per request" shows.
  describe(`upstream traffic of the ${framework} example`, () => {
    it("fetches discovery and JWKS once for 100 concurrent cold requests", async () => {
      const s = await scenario(framework);
      try {
        const token = await s.token();
        const replies = await pool(100, 50, () => post(s, token));
        expect(replies.filter((r) => r.status !== 200)).toEqual([]);
        expect(jwksHits(s.emu)).toBe(1);
        expect(discoveryHits(s.emu)).toBe(1);
      } finally {
        await s.close();
      }
    }, 90_000);
  });
}
