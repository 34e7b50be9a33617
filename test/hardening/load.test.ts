// The reduced load and soak (test/hardening/load.mjs): a second process drives autocannon against each
// built example, itself started as a child process, over loopback. The full form is `pnpm hardening:full`.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLES, ROOT } from "./lib.js";

interface Result {
  framework: string;
  load: {
    requests: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    mismatches: number;
    reqPerSec: number;
    latencyMs: { p99: number };
  };
  soak: {
    requests: number;
    checked: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    acceptedWrongly: number;
    serverErrors: number;
    kinds: Record<string, { sent: number; ok: number }>;
    examples: string[];
    latencyMs: { p99: number };
  };
}

function runLoad(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "test", "hardening", "load.mjs"), "--json"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 200_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("load and soak (reduced)", () => {
  it(`runs 1,000 valid requests at concurrency 20 and a 400-request hostile/valid soak against ${EXAMPLES.join(", ")}`, async () => {
    const { code, stdout, stderr } = await runLoad();
    const line = stdout.trim().split("\n").at(-1) ?? "";
    const report = JSON.parse(line) as { results: Result[] };
    expect(report.results.map((r) => r.framework)).toEqual(EXAMPLES);
    for (const { framework, load, soak } of report.results) {
      console.log(
        `${framework} load: ${load.requests} requests, ${load.errors} errors, ${load.non2xx} non-2xx, ${load.reqPerSec} req/s, p99 ${load.latencyMs.p99} ms; ` +
          `soak: ${soak.checked} checked, ${soak.mismatches} mismatches, ${soak.acceptedWrongly} accepted wrongly, ${soak.serverErrors} server errors, p99 ${soak.latencyMs.p99} ms`,
      );
      expect({ framework, ...load, latencyMs: undefined, reqPerSec: undefined }).toEqual({
        framework,
        requests: 1000,
        errors: 0,
        timeouts: 0,
        non2xx: 0,
        mismatches: 0,
        statusCodes: { 200: { count: 1000 } },
        durationS: expect.any(Number),
        latencyMs: undefined,
        reqPerSec: undefined,
      });
      expect(soak.examples).toEqual([]);
      expect({ ...soak, kinds: undefined, examples: undefined }).toMatchObject({
        checked: 400,
        errors: 0,
        timeouts: 0,
        mismatches: 0,
        acceptedWrongly: 0,
        serverErrors: 0,
      });
      // Every kind of request was sent and every answer was as expected.
      for (const [kind, { sent, ok }] of Object.entries(soak.kinds)) {
        expect(sent, kind).toBeGreaterThan(0);
        expect(ok, kind).toBe(sent);
      }
    }
    expect(code, stderr).toBe(0);
  }, 220_000);
});
