// Running a server under Bun or Deno (the real binaries, installed from npm as devDependencies):
// spawned in its own process group, ready when it prints a line matching `ready`, stopped with the
// group. Offline by construction: only 127.0.0.1 is used, and neither runtime may install anything.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
const require = createRequire(join(ROOT, "package.json"));

/** The runtime binary the npm package placed (its postinstall links the platform build). */
function binary(runtime: "bun" | "deno"): string {
  const dir = dirname(require.resolve(`${runtime}/package.json`));
  const path = runtime === "bun" ? join(dir, "bin", "bun.exe") : join(dir, "deno");
  if (!existsSync(path)) throw new Error(`${runtime} is not installed at ${path} (did its postinstall run?)`);
  return path;
}

const denoDir = mkdtempSync(join(tmpdir(), "descope-mcp-deno-"));

/** The command line that runs `file` under `runtime`, with only the permissions it needs. */
export function command(runtime: "bun" | "deno", file: string): [string, string[]] {
  if (runtime === "bun") return [binary("bun"), ["--no-install", file]];
  return [
    binary("deno"),
    ["run", "--node-modules-dir=manual", "--allow-net=127.0.0.1", "--allow-env", "--allow-read", file],
  ];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Running {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `file` under `runtime` in `cwd` with `env`, on a free port; resolves once it is ready. */
export async function start(
  runtime: "bun" | "deno",
  file: string,
  { cwd, env, ready }: { cwd: string; env: Record<string, string>; ready: RegExp },
): Promise<Running> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const [bin, args] = command(runtime, file);
  const child: ChildProcess = spawn(bin, args, {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NO_COLOR: "1",
      DENO_DIR: denoDir,
      DENO_NO_UPDATE_CHECK: "1",
      BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0",
      BASE_URL: url,
      PORT: String(port),
      ...env,
    },
  });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        resolve();
      }
    });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime} ${file} did not start:\n${output}`)), 20_000);
    const check = () => {
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    child.stderr?.on("data", check); // Deno.serve announces itself on stderr
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} ${file} exited with ${code}:\n${output}`));
    });
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  return { url, output: () => output, stop };
}
