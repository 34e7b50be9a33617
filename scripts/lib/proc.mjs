// Small process helpers shared by scripts/consumer-check.mjs and scripts/node-matrix.mjs.
import { spawn } from "node:child_process";
import { delimiter, resolve, sep } from "node:path";

const active = new Set();

/** Stops every child `run` started that is still running (each by its own id). */
export function stopAll() {
  for (const child of active) killGroup(child);
}

/**
 * Runs a command to completion and never throws: `{ code, signal, stdout, stderr, ms, timedOut }`.
 * The child gets its own process group, so a timeout stops it and everything it started (by its id).
 * `inherit: true` streams its output to ours instead of collecting it.
 */
export function run(
  command,
  args,
  { cwd, env = process.env, timeoutMs = 300_000, input, onLine, inherit = false } = {},
) {
  const started = performance.now();
  return new Promise((done) => {
    const stdio = inherit ? ["ignore", "inherit", "inherit"] : ["pipe", "pipe", "pipe"];
    const child = spawn(command, args, { cwd, env, stdio, detached: true });
    active.add(child);
    let stdout = "";
    let stderr = "";
    let pending = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.stdout?.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk;
      if (!onLine) return;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", (error) => {
      stderr += String(error);
    });
    child.on("close", (code, signal) => {
      active.delete(child);
      clearTimeout(timer);
      done({ code: code ?? 1, signal, stdout, stderr, ms: performance.now() - started, timedOut });
    });
    child.stdin?.on("error", () => {});
    child.stdin?.end(input ?? "");
  });
}

/** Stops a child started by `run`/`spawn(…, { detached: true })` and its process group. */
export function killGroup(child, signal = "SIGTERM") {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

/** At most `limit` of the functions given to the returned `use` run at once. */
export function semaphore(limit) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= limit || queue.length === 0) return;
    active++;
    const { fn, resolve: ok, reject } = queue.shift();
    Promise.resolve()
      .then(fn)
      .then(ok, reject)
      .finally(() => {
        active--;
        next();
      });
  };
  return (fn) =>
    new Promise((ok, reject) => {
      queue.push({ fn, resolve: ok, reject });
      next();
    });
}

/**
 * The environment a fresh shell would have: without what a package manager running this script added
 * (`npm_*`, `pnpm_*` variables, the repository's `node_modules/.bin` on PATH), so temporary projects
 * resolve nothing from the repository.
 */
export function cleanEnv(root, extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_/i.test(key) || key === "PNPM_SCRIPT_SRC_DIR" || key === "INIT_CWD") continue;
    env[key] = value;
  }
  const inside = resolve(root) + sep;
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir && !resolve(dir).startsWith(inside))
    .join(delimiter);
  return { ...env, ...extra };
}

/** `12.3s` */
export const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;
