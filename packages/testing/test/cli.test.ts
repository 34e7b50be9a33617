import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "tsup";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClientMetadataHost } from "../src/index.js";
import { pkce, REDIRECT_URI } from "./helpers.js";

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

  it("--no-dynamic-registration and --no-client-metadata-documents turn both registration paths off", async () => {
    const { child, lines, exit } = run(["--port=0", "--no-dynamic-registration", "--no-client-metadata-documents"]);
    const doc = (await (await fetch((await lines())["well-known"] as string)).json()) as Record<string, unknown>;
    expect(doc).not.toHaveProperty("registration_endpoint");
    expect(doc).not.toHaveProperty("client_id_metadata_document_supported");
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });

  it("--client-metadata-ca trusts a local HTTPS host for client ID metadata documents", async () => {
    const host = await startClientMetadataHost();
    const caFile = join(outDir, "host-ca.pem");
    await writeFile(caFile, host.ca);
    const { child, lines, exit } = run(["--port=0", "--client-metadata-ca", caFile]);
    try {
      const info = await lines();
      const doc = (await (await fetch(info["well-known"] as string)).json()) as Record<string, string>;
      expect(doc.client_id_metadata_document_supported).toBe(true);
      const clientId = host.publish({ client_id: host.url("/cli-client.json"), redirect_uris: [REDIRECT_URI] });
      const authorize = new URL(doc.authorization_endpoint as string);
      for (const [k, v] of Object.entries({
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        response_type: "code",
        code_challenge: pkce().challenge,
        code_challenge_method: "S256",
      })) {
        authorize.searchParams.set(k, v);
      }
      const res = await fetch(authorize, { redirect: "manual" });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toMatch(/^http:\/\/127\.0\.0\.1:9999\/callback\?code=emu_code_/);
    } finally {
      child.kill("SIGTERM");
      await exit;
      await host.close();
    }
  });

  it("exits 2 when --client-metadata-ca cannot be read", async () => {
    const child = spawn(process.execPath, [cli, "--client-metadata-ca", join(outDir, "missing.pem")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(2);
    expect(err).toContain(`cannot read --client-metadata-ca ${join(outDir, "missing.pem")}: ENOENT`);
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
