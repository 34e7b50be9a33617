#!/usr/bin/env node
// Load and soak against every built example (examples/*/dist/server.js), loopback only.
//
//   node test/hardening/load.mjs            reduced: 1,000 requests at concurrency 20 + a 400-request soak
//   node test/hardening/load.mjs --full     full:   10,000 requests at concurrency 50 + a 20,000-request soak
//   add --json to print one JSON line of results (what test/hardening/load.test.ts reads)
//
// This process runs autocannon; each example runs as its own child process (e2e/servers.mjs) against a
// local Descope emulator started here. Every soak response is checked: status, `error`, challenge.
import { startDescopeEmulator } from "@descope-mcp/testing";
import autocannon from "autocannon";
import { startExample } from "../../e2e/servers.mjs";
import { parseAnswer } from "./answers.mjs";
import { examples } from "./examples.mjs";

const FULL = process.argv.includes("--full");
const JSON_OUT = process.argv.includes("--json");
const only = process.argv.find((a) => a.startsWith("--framework="))?.slice("--framework=".length);
const PLAN = FULL
  ? { load: { amount: 10_000, connections: 50 }, soak: { amount: 20_000, connections: 20 } }
  : { load: { amount: 1_000, connections: 20 }, soak: { amount: 400, connections: 10 } };
const ACCEPT = "application/json, text/event-stream";
const say = (line) => {
  if (!JSON_OUT) console.log(line);
};

const call = (name, id = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: { text: "hi" } } });

/** Strict `Bearer k="v", …` parser (printable ASCII, only \" and \\ escapes). */
function challengeParams(header) {
  if (typeof header !== "string" || !/^[\x20-\x7e]*$/.test(header) || !header.startsWith("Bearer ")) return undefined;
  const params = {};
  const re = /([a-z_]+)="((?:[^"\\]|\\["\\])*)"(, |$)/gy;
  re.lastIndex = 7;
  let end = 7;
  for (let guard = 0; guard < 10; guard++) {
    const m = re.exec(header);
    if (!m) break;
    params[m[1]] = m[2].replace(/\\(["\\])/g, "$1");
    end = re.lastIndex;
    if (m[3] === "") break;
  }
  return end === header.length ? params : undefined;
}

/** Runs autocannon and resolves with its result (bounded: `amount` requests, 10 s per request). */
function cannon(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ timeout: 10, ...opts }, (error, result) => (error ? reject(error) : resolve(result)));
    instance.on("error", reject);
  });
}

const summary = (r) => ({
  requests: r.requests.total,
  errors: r.errors,
  timeouts: r.timeouts,
  non2xx: r.non2xx,
  statusCodes: r.statusCodeStats,
  reqPerSec: Math.round(r.requests.average),
  latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
  durationS: r.duration,
});

async function runOne(framework) {
  const emu = await startDescopeEmulator();
  const server = await startExample(framework, { DESCOPE_ISSUER_URL: emu.issuerURL });
  try {
    const aud = server.mcpURL;
    const url = server.mcpURL;
    const prm = `${server.baseURL}/.well-known/oauth-protected-resource/mcp`;
    const valid = await emu.mintToken({ aud, scope: "openid" });
    const writer = await emu.mintToken({ aud, scope: "openid notes:write" });
    const headers = (token) => ({
      "content-type": "application/json",
      accept: ACCEPT,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });
    // Warm up: the first request fetches discovery and JWKS.
    const warm = await fetch(url, { method: "POST", headers: headers(valid), body: call("whoami") });
    if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}: ${await warm.text()}`);

    // ---- load: valid requests only, every answer must be a whoami result --------------------------------
    let loadBad = 0;
    const load = await cannon({
      url,
      ...PLAN.load,
      requests: [
        {
          method: "POST",
          headers: headers(valid),
          body: call("whoami"),
          onResponse: (status, body) => {
            if (status !== 200 || !body.includes("U2EmulatorUser0001")) loadBad++;
          },
        },
      ],
    });
    const loadResult = { ...summary(load), mismatches: loadBad };
    say(
      `${framework} load: ${loadResult.requests} requests at concurrency ${PLAN.load.connections}, ${loadResult.errors} errors, ` +
        `${loadResult.non2xx} non-2xx, ${loadResult.mismatches} bad bodies, ${loadResult.reqPerSec} req/s, p99 ${loadResult.latencyMs.p99} ms`,
    );

    // ---- soak: valid and hostile requests interleaved, every answer checked --------------------------
    const kinds = [
      { name: "valid", token: valid, body: call("whoami"), status: 200, error: null },
      { name: "valid write_note", token: writer, body: call("write_note"), status: 200, error: null },
      {
        name: "expired",
        token: await emu.tokens.expired({ aud }),
        status: 401,
        // The xmcp adapter keeps @xmcp-dev/descope's body value for its clients (the challenge is the same).
        error: framework.split("@")[0] === "xmcp" ? "token_expired" : "invalid_token",
        challengeError: "invalid_token",
      },
      { name: "wrong audience", token: await emu.tokens.wrongAudience(), status: 401, error: "invalid_token" },
      { name: "unknown kid", token: await emu.tokens.unknownKid({ aud }), status: 401, error: "invalid_token" },
      { name: "alg none", token: await emu.tokens.algNone({ aud }), status: 401, error: "invalid_token" },
      { name: "other project", token: await emu.tokens.otherProject({ aud }), status: 401, error: "invalid_token" },
      {
        name: "scope lacking",
        token: valid,
        body: call("write_note"),
        status: 403,
        error: "insufficient_scope",
        scope: "notes:write openid",
      },
      {
        name: "batch hiding write_note",
        token: valid,
        body: `[${call("whoami", 1)},${call("write_note", 2)}]`,
        status: 403,
        error: "insufficient_scope",
        scope: "notes:write openid",
      },
      { name: "no token", token: undefined, status: 401, error: "unauthorized" },
      { name: "malformed JSON", token: valid, body: '{"jsonrpc":', status: 400, error: "invalid_request" },
    ];
    const tally = Object.fromEntries(kinds.map((k) => [k.name, { sent: 0, ok: 0 }]));
    const wrong = [];
    let acceptedWrongly = 0;
    let serverErrors = 0;
    const check = (kind, status, body, responseHeaders) => {
      const t = tally[kind.name];
      t.sent++;
      const problems = [];
      if (status !== kind.status) problems.push(`status ${status}`);
      if (kind.status >= 300 && status >= 200 && status < 300) acceptedWrongly++;
      if (status >= 500) serverErrors++;
      const json = parseAnswer(body);
      if (json === undefined) problems.push("body is neither JSON nor an SSE stream of JSON");
      // Header names as the server spelled them (workerd capitalises): look the challenge up by any case.
      const challenge = Object.entries(responseHeaders ?? {}).find(
        ([n]) => n.toLowerCase() === "www-authenticate",
      )?.[1];
      if (kind.error === null) {
        if (!json?.result || json.result.isError === true) problems.push("no tool result");
        if (challenge) problems.push("unexpected challenge");
      } else {
        if (json?.error !== kind.error) problems.push(`error ${json?.error}`);
        const params = challengeParams(challenge);
        if (!params) problems.push(`challenge does not parse: ${challenge}`);
        else {
          const expectedError = kind.error === "unauthorized" ? undefined : (kind.challengeError ?? kind.error);
          if (params.error !== expectedError) problems.push(`challenge error ${params.error}`);
          if (params.resource_metadata !== prm) problems.push("challenge resource_metadata");
          if (params.scope !== (kind.scope ?? "openid outbound.token.fetch")) problems.push(`scope ${params.scope}`);
        }
      }
      if (problems.length === 0) t.ok++;
      else if (wrong.length < 20) wrong.push(`${kind.name}: ${problems.join("; ")}`);
    };
    // One autocannon instance per kind, all at once: the server sees the kinds interleaved, and each
    // answer is checked against the request that caused it (one instance cycling through every kind
    // on a connection pairs answers with the wrong kind when a server closes connections, as workerd does).
    const perKind = Math.max(1, Math.round(PLAN.soak.amount / kinds.length));
    const soaks = await Promise.all(
      kinds.map((kind) =>
        cannon({
          url,
          amount: perKind,
          connections: Math.max(1, Math.round(PLAN.soak.connections / 2)),
          requests: [
            {
              method: "POST",
              headers: headers(kind.token),
              body: kind.body ?? call("whoami"),
              onResponse: (status, body, _context, responseHeaders) => check(kind, status, body, responseHeaders),
            },
          ],
        }),
      ),
    );
    const soak = {
      requests: {
        total: soaks.reduce((n, r) => n + r.requests.total, 0),
        average: soaks.reduce((n, r) => n + r.requests.average, 0),
      },
      errors: soaks.reduce((n, r) => n + r.errors, 0),
      timeouts: soaks.reduce((n, r) => n + r.timeouts, 0),
      non2xx: soaks.reduce((n, r) => n + r.non2xx, 0),
      statusCodeStats: {},
      latency: {
        p50: Math.max(...soaks.map((r) => r.latency.p50)),
        p90: Math.max(...soaks.map((r) => r.latency.p90)),
        p99: Math.max(...soaks.map((r) => r.latency.p99)),
        max: Math.max(...soaks.map((r) => r.latency.max)),
      },
      duration: Math.max(...soaks.map((r) => r.duration)),
    };
    const checked = Object.values(tally).reduce((n, t) => n + t.sent, 0);
    const soakResult = {
      ...summary(soak),
      checked,
      mismatches: checked - Object.values(tally).reduce((n, t) => n + t.ok, 0),
      acceptedWrongly,
      serverErrors,
      kinds: tally,
      examples: wrong,
    };
    say(
      `${framework} soak: ${soakResult.requests} requests (${kinds.length} kinds, ${checked} checked) at concurrency ${PLAN.soak.connections}, ` +
        `${soakResult.mismatches} mismatches, ${acceptedWrongly} accepted wrongly, ${serverErrors} server errors, ${soakResult.errors} errors, ` +
        `${soakResult.reqPerSec} req/s, p99 ${soakResult.latencyMs.p99} ms`,
    );
    for (const w of wrong) say(`  ${w}`);
    return { framework, load: loadResult, soak: soakResult, serverOutput: server.output().slice(-2000) };
  } finally {
    await server.stop();
    await emu.close();
  }
}

const results = [];
let failed = false;
for (const framework of examples().filter((f) => !only || f === only)) {
  const r = await runOne(framework);
  results.push(r);
  const l = r.load;
  const s = r.soak;
  if (l.errors || l.timeouts || l.non2xx || l.mismatches || l.requests !== PLAN.load.amount) failed = true;
  if (s.errors || s.timeouts || s.mismatches || s.acceptedWrongly || s.serverErrors || s.checked !== PLAN.soak.amount)
    failed = true;
}
if (JSON_OUT) console.log(JSON.stringify({ mode: FULL ? "full" : "reduced", plan: PLAN, results }));
else say(failed ? "load/soak: FAILED" : "load/soak: passed");
process.exit(failed ? 1 : 0);
