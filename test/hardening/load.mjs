#!/usr/bin/env node
// Load and soak against every built example (examples/*/dist/server.js), loopback only.
//
//   node test/hardening/load.mjs            reduced: 1,000 requests at concurrency 20 + a 400-request soak
//   node test/hardening/load.mjs --full     full:   10,000 requests at concurrency 50 + a 20,000-request soak
//   add --json to print one JSON line of results (what test/hardening/load.test.ts reads)
//
// This process drives the load (autocannon for the load, its own keep-alive client for the soak);
// each example runs as its own child process (e2e/servers.mjs) against a local Descope emulator
// started here. Every soak response is checked: status, `error`, challenge.
import net from "node:net";
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

/**
 * The soak's client: `amount` requests over `connections` keep-alive connections, one exchange at a
 * time per connection, each answer read exactly (Content-Length or chunked) and matched to the
 * request that caused it. (autocannon's per-request callbacks lose track of which answer belongs to
 * which request once a server closes connections, so they cannot check a soak against such a
 * server.) A server may close a connection after a complete answer — workerd does when a Worker
 * answers without reading the body — so a request sent on a reused connection that the server
 * closed without sending a single byte back was never read: it is sent again on a new connection
 * (counted in `resent`), as HTTP clients do. Any other connection failure is an error.
 */
async function soakRun({ port, connections, amount, requestFor, timeoutMs = 10_000 }) {
  const started = performance.now();
  const latencies = [];
  const answers = [];
  const stats = { requests: 0, errors: 0, timeouts: 0, reconnects: 0, resent: 0 };
  let next = 0;
  const worker = async () => {
    let conn;
    while (next < amount) {
      const i = next++;
      stats.requests++;
      for (let attempt = 0; ; attempt++) {
        if (!conn || conn.closed) {
          if (conn) stats.reconnects++;
          conn = rawConnection(port);
        }
        const sentAt = performance.now();
        try {
          const answer = await conn.exchange(requestFor(i), timeoutMs);
          latencies.push(performance.now() - sentAt);
          answers.push({ ...answer, index: i });
        } catch (error) {
          conn.destroy();
          if (error.code === "UNREAD" && attempt === 0) {
            stats.resent++;
            continue;
          }
          if (error.code === "TIMEOUT") stats.timeouts++;
          else stats.errors++;
        }
        break;
      }
    }
    conn?.destroy();
  };
  await Promise.all(Array.from({ length: connections }, worker));
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0);
  const durationS = (performance.now() - started) / 1000;
  return {
    answers,
    summary: {
      ...stats,
      reqPerSec: Math.round(stats.requests / durationS),
      latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: pct(100) },
      durationS: Math.round(durationS * 10) / 10,
    },
  };
}

/** One keep-alive HTTP/1.1 connection that reads exactly one answer per request. */
function rawConnection(port) {
  const socket = net.connect(port, "127.0.0.1");
  let buffer = Buffer.alloc(0);
  let waiting;
  let exchanges = 0;
  const fail = (message, code) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(Object.assign(new Error(message), { code }));
  };
  const conn = {
    closed: false,
    destroy: () => socket.destroy(),
    exchange(bytes, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => fail("no answer in time", "TIMEOUT"), timeoutMs);
        const reused = exchanges++ > 0;
        waiting = {
          reused,
          resolve: (answer) => {
            clearTimeout(timer);
            resolve(answer);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        socket.write(bytes);
        settle();
      });
    },
  };
  const settle = () => {
    if (!waiting) return;
    const answer = takeAnswer();
    if (answer) {
      const w = waiting;
      waiting = undefined;
      if (/^close$/i.test(answer.headers.connection ?? "")) conn.closed = true;
      w.resolve(answer);
    } else if (conn.closed) {
      if (waiting.reused && buffer.length === 0) fail("the server closed the reused connection unread", "UNREAD");
      else fail("the server closed the connection before its answer was complete", "CLOSED");
    }
  };
  /** One complete answer off the front of the buffer, or undefined. */
  const takeAnswer = () => {
    const end = buffer.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const [statusLine, ...lines] = buffer.subarray(0, end).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    const headers = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let rest = buffer.subarray(end + 4);
    let body;
    if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
      const parts = [];
      let at = 0;
      for (;;) {
        const lineEnd = rest.indexOf("\r\n", at);
        if (lineEnd < 0) return undefined;
        const size = Number.parseInt(rest.subarray(at, lineEnd).toString("latin1"), 16);
        if (size === 0) {
          if (rest.length < lineEnd + 4) return undefined;
          rest = rest.subarray(lineEnd + 4);
          break;
        }
        if (rest.length < lineEnd + 2 + size + 2) return undefined;
        parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers["content-length"] ?? 0);
      if (rest.length < length) return undefined;
      body = rest.subarray(0, length);
      rest = rest.subarray(length);
    }
    buffer = rest;
    return { status, headers, body: body.toString("utf8") };
  };
  socket.on("data", (data) => {
    buffer = Buffer.concat([buffer, data]);
    settle();
  });
  socket.on("error", () => undefined);
  socket.on("close", () => {
    conn.closed = true;
    settle();
  });
  return conn;
}

/** The bytes of one POST to `path` on 127.0.0.1:`port`. */
function rawPost(port, path, headers, body) {
  const head = [`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"), Buffer.from(body)]);
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
    const path = new URL(url).pathname;
    const soak = await soakRun({
      port: server.port,
      ...PLAN.soak,
      requestFor: (i) => {
        const kind = kinds[i % kinds.length];
        return rawPost(server.port, path, headers(kind.token), kind.body ?? call("whoami"));
      },
    });
    for (const a of soak.answers) check(kinds[a.index % kinds.length], a.status, a.body, a.headers);
    const checked = Object.values(tally).reduce((n, t) => n + t.sent, 0);
    const soakResult = {
      ...soak.summary,
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
        `${soakResult.reconnects} reconnects (${soakResult.resent} requests resent), ${soakResult.reqPerSec} req/s, p99 ${soakResult.latencyMs.p99} ms`,
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
