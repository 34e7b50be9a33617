import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "tsup";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
let outDir: string;
let cli: string;

// Bundle src/cli.ts exactly like the package build does, into a scratch folder inside node_modules
// (so `jose` resolves), and run it as a real process.
beforeAll(async () => {
  outDir = await mkdtemp(join(pkgDir, "node_modules", ".cli-test-"));
  await build({
    entry: [join(pkgDir, "src/cli.ts")],
    format: ["esm"],
    platform: "node",
    target: "es2022",
    outDir,
    config: false,
    silent: true,
    dts: false,
  });
  cli = join(outDir, "cli.js");
}, 30_000);
afterAll(() => rm(outDir, { recursive: true, force: true }));

function run(args: string[]): {
  child: ChildProcess;
  lines: () => Promise<Record<string, string>>;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const ready = new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("management-key:") && out.endsWith("\n")) {
        resolve(
          Object.fromEntries(
            out
              .trim()
              .split("\n")
              .slice(1)
              .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]),
          ),
        );
      }
    });
    child.once("exit", () => reject(new Error(`exited early: ${out}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, lines: () => ready, exit };
}

describe("descope-emulator CLI", () => {
  it.each(["SIGINT", "SIGTERM"] as const)("prints the URLs, serves them, exits 0 on %s", async (signal) => {
    const { child, lines, exit } = run(["--port", "0", "--project-id", "P2CliPr0ject0000000000000001"]);
    const info = await lines();
    expect(info.issuer).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/v1\/apps\/agentic\/P2CliPr0ject0000000000000001\/MEmulat0rMcpServer0000000001$/,
    );
    expect(info["well-known"]).toBe(`${info.issuer}/.well-known/openid-configuration`);
    expect(info["management-key"]).toBe("emulator-management-key");
    expect(info["project-id"]).toBe("P2CliPr0ject0000000000000001");
    const doc = (await (await fetch(info["well-known"] as string)).json()) as { issuer: string; jwks_uri: string };
    expect(doc.issuer).toBe(info.issuer);
    expect(doc.jwks_uri).toBe(info.jwks);
    child.kill(signal);
    expect(await exit).toBe(0);
  });

  it("marks --connect apps as connected", async () => {
    const { child, lines, exit } = run(["--port=0", "--connect", "google-calendar", "--management-key", "k1"]);
    const info = await lines();
    const res = await fetch(`${info["base-url"]}/v1/mgmt/outbound/app/user/token/latest`, {
      method: "POST",
      headers: { authorization: `Bearer ${info["project-id"]}:k1`, "content-type": "application/json" },
      body: JSON.stringify({ appId: "google-calendar", userId: "U2EmulatorUser0001", options: {} }),
    });
    expect(res.status).toBe(200);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });

  it("exits 2 with usage on a bad argument", async () => {
    const child = spawn(process.execPath, [cli, "--port", "abc"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(err).toContain("--port must be an integer");
    expect(err).toContain("Usage: descope-emulator");
  });
});
