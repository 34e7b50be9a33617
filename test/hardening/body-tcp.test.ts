// The body contract over raw TCP against every built example (SECURITY.md R21), the way an attacker
// sends it: half-closed connections, bodies split across writes, aborts mid-body, Expect:
// 100-continue, chunked bodies with and without their last chunk. Each case uses a fresh token
// without `notes:write` and asserts on the tool, not the status: with AUDIT_LOG=1 the example prints
// one `audit …` line per gate decision and `tool write_note ran` whenever the tool runs.
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample } from "../../e2e/servers.mjs";
import { EXAMPLES, sleep } from "./lib.js";
import { patiently, playRaw, RAW_SCENARIOS } from "./raw.js";

const WRITE = JSON.stringify({
  jsonrpc: "2.0",
  id: 9,
  method: "tools/call",
  params: { name: "write_note", arguments: { text: "must not be written" } },
});

const count = (output: string, pattern: RegExp) => output.split("\n").filter((line) => pattern.test(line)).length;

describe.each(EXAMPLES)("the body contract over raw TCP against the %s example", (framework) => {
  let emu: DescopeEmulator;
  let server: Awaited<ReturnType<typeof startExample>>;
  let minted = 0;
  const fresh = (scope: string) => emu.mintToken({ aud: server.mcpURL, scope, jti: `raw-${++minted}` });
  const decisions = () => count(server.output(), /^audit (allow|deny) /);
  const runs = () => count(server.output(), /^tool write_note ran$/);

  /** Waits (bounded) for the gate's decision on the request just sent. */
  async function decided(before: number): Promise<void> {
    for (let i = 0; i < 400 && decisions() === before; i++) await sleep(10);
    expect(decisions(), `${framework} never decided the request:\n${server.output().slice(-2000)}`).toBeGreaterThan(
      before,
    );
  }

  beforeAll(async () => {
    emu = await startDescopeEmulator();
    server = await startExample(framework, { DESCOPE_ISSUER_URL: emu.issuerURL, AUDIT_LOG: "1" });
  });
  afterAll(async () => {
    await server?.stop();
    await emu?.close();
  });

  it.each(RAW_SCENARIOS.map((s) => [s.name, s] as const))("%s: write_note does not run", async (_name, scenario) => {
    const before = decisions();
    const answer = await playRaw(server.port, scenario, {
      path: new URL(server.mcpURL).pathname,
      token: await fresh("openid"),
      body: WRITE,
    });
    await decided(before);
    expect(runs()).toBe(0);
    expect([scenario.complete ? 403 : 400, undefined]).toContain(answer.status);
  });

  it.each(RAW_SCENARIOS.filter((s) => s.complete).map((s) => [patiently(s).name, patiently(s)] as const))(
    "%s: 403 without the scope; with it the tool runs exactly once",
    async (_name, scenario) => {
      const path = new URL(server.mcpURL).pathname;
      const before = runs();
      const refused = await playRaw(server.port, scenario, { path, token: await fresh("openid"), body: WRITE });
      expect(refused.status).toBe(403);
      expect(runs()).toBe(before);
      const allowed = await playRaw(server.port, scenario, {
        path,
        token: await fresh("openid notes:write"),
        body: WRITE,
      });
      expect(allowed.status).toBe(200);
      for (let i = 0; i < 400 && runs() === before; i++) await sleep(10);
      expect(runs()).toBe(before + 1);
    },
  );
});
