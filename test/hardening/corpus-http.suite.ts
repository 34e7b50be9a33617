// The hostile-request corpus over real HTTP against a built example (one file per target under corpus-http/) (examples/*/dist/server.js),
// each started as a child process the way users run it, with its own Descope emulator.
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample } from "../../e2e/servers.mjs";
import { type Answer, checkAnswer } from "./check.js";
import { CORPUS, type CorpusContext, expectationFor, type HostileCase, requestParts } from "./corpus.js";
import { jsonOrUndefined, sendHttp, Tally } from "./lib.js";

/**
 * The hostile corpus over HTTP against one example target, one test file per target
 * (test/hardening/corpus-http/<target>.test.ts) so that the targets run in parallel workers.
 */
export function describeCorpusHttp(framework: string): void {
  describe(`hostile corpus over HTTP against the ${framework} example`, () => {
    const cases = CORPUS.filter((k) => expectationFor(k, "http", framework));
    const title = (k: HostileCase) => `[${k.rule}] ${k.name}`;
    // Cases refused before any key lookup run first, against a cold server: Descope must not hear of them.
    const precrypto = cases.filter((k) => k.precrypto).map((k) => [title(k), k] as const);
    const others = cases.filter((k) => !k.precrypto).map((k) => [title(k), k] as const);
    let emu: DescopeEmulator;
    let server: Awaited<ReturnType<typeof startExample>>;
    let ctx: CorpusContext;
    const tally = new Tally(`http ${framework}`);

    beforeAll(async () => {
      emu = await startDescopeEmulator();
      server = await startExample(framework, { DESCOPE_ISSUER_URL: emu.issuerURL });
      ctx = {
        emu,
        resource: server.mcpURL,
        prm: `${server.baseURL}/.well-known/oauth-protected-resource/mcp`,
        mcpPath: "/mcp",
      };
    });
    afterAll(async () => {
      console.log(tally.line());
      await server?.stop();
      await emu?.close();
    });

    async function run(name: string, kase: HostileCase) {
      const expected = expectationFor(kase, "http", framework)!;
      const token = kase.token ? await kase.token(ctx) : "";
      const spec = kase.request(ctx, token);
      const { method, body, headers, pathAndQuery } = requestParts(ctx, spec);
      const res = await sendHttp(server.port, { method, path: pathAndQuery, headers, body, raw: spec.raw });
      const got: Answer = { status: res.status, headers: res.headers, body: jsonOrUndefined(res.body) };
      const problems = checkAnswer(ctx, expected, got);
      tally.record(name, expected.status, got.status, problems.length === 0);
      expect(problems).toEqual([]);
    }

    it.each(precrypto)("%s", run);

    it("contacted Descope for none of the cases above (refused without key lookup)", () => {
      expect(emu.requests.map((r) => r.path)).toEqual([]);
    });

    it.each(others)("%s", run);
  });
}
