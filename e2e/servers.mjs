// Starts an example server as a real child process, the way users run it.
//
// An example may be served several ways ("targets"): `examples/<framework>/package.json` lists them
// under "descope-mcp-example".targets, each with the file node runs (`main`), the file that must
// exist for the target to count as built (`built`, default `main`) and extra environment (`env`):
//
//   "descope-mcp-example": { "targets": {
//     "node":    { "main": "dist/server.js" },
//     "workerd": { "main": "scripts/workerd.mjs", "built": "dist/worker.js" },
//     "fastify": { "main": "dist/server.js", "env": { "NEST_PLATFORM": "fastify" } } } }
//
// Without that field the only target is `node` → `dist/server.js`. A target is named `<framework>`
// for `node` and `<framework>@<target>` otherwise (`hono@workerd`, `nest@fastify`).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The targets an example declares (`node` → dist/server.js when it declares none). */
function targetsOf(framework) {
  const manifest = JSON.parse(readFileSync(join(ROOT, "examples", framework, "package.json"), "utf8"));
  return manifest["descope-mcp-example"]?.targets ?? { node: { main: "dist/server.js" } };
}

/** Splits `hono@workerd` into the example directory and its target. */
function resolveTarget(name) {
  const [framework, target = "node"] = name.split("@");
  const spec = targetsOf(framework)[target];
  if (!spec) throw new Error(`examples/${framework} has no target "${target}"`);
  return { framework, target, spec, dir: join(ROOT, "examples", framework) };
}

/** Every built example target, sorted: `express`, `hono`, `hono@workerd`, `nest`, `nest@fastify`, … */
export function builtExamples() {
  const names = [];
  for (const framework of readdirSync(join(ROOT, "examples"))) {
    if (!existsSync(join(ROOT, "examples", framework, "package.json"))) continue;
    for (const [target, spec] of Object.entries(targetsOf(framework))) {
      if (existsSync(join(ROOT, "examples", framework, spec.built ?? spec.main))) {
        names.push(target === "node" ? framework : `${framework}@${target}`);
      }
    }
  }
  return names.sort();
}

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

/** Whether 127.0.0.1:`port` can be bound now. */
function canBind(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

let nextPort = 0;
/**
 * The port for an example. Inside a vitest worker, one from that worker's own slice below Linux's
 * ephemeral range (32768–60999): a port picked with listen(0) and released is free for anyone, and
 * with several workers another process (an emulator, workerd's internal sockets, another worker's
 * example) could take it before the example binds it. Elsewhere (demo, benchmark) any free port.
 */
async function examplePort() {
  const pool = Number(process.env.VITEST_POOL_ID);
  if (!Number.isInteger(pool) || pool < 1) return freePort();
  const base = 20_000 + ((pool - 1) % 6) * 2000;
  for (let tries = 0; tries < 200; tries++) {
    const port = base + (nextPort++ % 2000);
    if (await canBind(port)) return port;
  }
  return freePort();
}

/**
 * Spawns the target in its own process group (so a runtime it starts, such as workerd, is stopped
 * with it) and returns the child.
 */
function spawnTarget(name, env) {
  const { spec, dir } = resolveTarget(name);
  return spawn(process.execPath, [join(dir, spec.main)], {
    cwd: dir,
    env: { ...env, ...(spec.env ?? {}) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
}

/** Stops a child started by `spawnTarget` and everything in its process group. */
function stopGroup(child, signal = "SIGTERM") {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      // Whatever the launcher left behind in its group goes too.
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // nothing left
      }
      resolve();
    });
    try {
      process.kill(-child.pid, signal);
    } catch {
      resolve();
    }
  });
}

const running = new Set();
process.once("exit", () => {
  for (const child of running) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

/**
 * At most one start in flight per core in this process. Starting a target is CPU-bound (a workerd
 * target costs about 1.3 s of CPU before it listens): ten at once on two cores take ten times as long
 * each, and starve the already-running servers whose upstream calls are time-boxed (5 s). Queued, the
 * same starts finish as soon in total, and the first ones are ready early.
 */
const startSlots = { free: availableParallelism(), waiting: [] };
async function startSlot() {
  if (startSlots.free > 0) startSlots.free--;
  else await new Promise((resolve) => startSlots.waiting.push(resolve));
  return () => {
    const next = startSlots.waiting.shift();
    if (next) next();
    else startSlots.free++;
  };
}

/**
 * Runs an example target (`express`, `hono@workerd`, …) with `env`; resolves once it prints
 * `listening`. Rejects with its output if it exits first. `timeoutMs` counts from the spawn (not
 * from the wait for a start slot).
 */
export async function startExample(name, env = {}, { timeoutMs = 30_000 } = {}) {
  const release = await startSlot();
  try {
    return await spawnExample(name, env, timeoutMs);
  } finally {
    release();
  }
}

async function spawnExample(name, env, timeoutMs) {
  const port = env.PORT ?? String(await examplePort());
  const child = spawnTarget(name, { ...process.env, BASE_URL: `http://127.0.0.1:${port}`, ...env, PORT: port });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} example did not start:\n${output}`)), timeoutMs);
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
        reject(new Error(`${name} example exited with ${code}:\n${output}`));
      });
    });
  } catch (error) {
    await stopGroup(child, "SIGKILL");
    throw error;
  }
  const baseURL = env.BASE_URL ?? `http://127.0.0.1:${port}`;
  return {
    name,
    port: Number(port),
    baseURL,
    mcpURL: `${baseURL}${env.MCP_PATH ?? "/mcp"}`,
    output: () => output,
    stop: () => stopGroup(child),
  };
}

/** Runs an example target expecting it to exit before listening; resolves with its exit code and output. */
export function runExampleToExit(name, env) {
  return new Promise((resolve) => {
    const child = spawnTarget(name, { PATH: process.env.PATH, HOME: process.env.HOME, ...env });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => stopGroup(child, "SIGKILL"), 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}
