// Starts an example server as a real child process, the way users run it.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs `examples/<framework>` (its built `start` entry) with `env`; resolves once it prints
 * `listening`. Rejects with its output if it exits first.
 */
export async function startExample(framework, env = {}, { timeoutMs = 20_000 } = {}) {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, [join(ROOT, "examples", framework, "dist", "server.js")], {
    env: { ...process.env, BASE_URL: `http://127.0.0.1:${port}`, ...env, PORT: port },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${framework} example did not start:\n${output}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk;
      if (/listening/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${framework} example exited with ${code}:\n${output}`));
    });
  });
  const baseURL = env.BASE_URL ?? `http://127.0.0.1:${port}`;
  return {
    port: Number(port),
    baseURL,
    mcpURL: `${baseURL}${env.MCP_PATH ?? "/mcp"}`,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Runs an example expecting it to exit before listening; resolves with its exit code and output. */
export function runExampleToExit(framework, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "examples", framework, "dist", "server.js")], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
