// Every example that has been built (`examples/<framework>/dist/server.js`): new examples join automatically.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function examples() {
  return readdirSync(join(ROOT, "examples"))
    .filter((name) => existsSync(join(ROOT, "examples", name, "dist", "server.js")))
    .sort();
}
