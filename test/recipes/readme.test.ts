// The core README shows the recipes exactly as they are tested: every recipe file appears in it
// verbatim, so the README cannot drift from what test/recipes and test/runtimes run.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const README = readFileSync(join(ROOT, "packages", "core", "README.md"), "utf8");

describe("packages/core/README.md", () => {
  it.each([
    "mcp.ts",
    "bun.ts",
    "deno.ts",
    "worker.ts",
    "next/lib/descope.ts",
    "next/app/mcp/route.ts",
    "next/app/.well-known/oauth-protected-resource/[[...path]]/route.ts",
    "next/app/.well-known/oauth-authorization-server/route.ts",
  ])("shows test/recipes/%s verbatim", (file) => {
    const code = readFileSync(join(ROOT, "test", "recipes", file), "utf8").trimEnd();
    expect(README).toContain(`\n${code}\n\`\`\``);
  });

  it("no longer wires metadata, preflight and the body by hand", () => {
    expect(README).not.toContain(".clone()");
    expect(README).toContain("export default { fetch: auth.protect(mcp) };");
  });
});
