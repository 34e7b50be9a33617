// Benchmark 5 (run in a child process with --expose-gc): resident set and live heap while 1M
// distinct valid tokens pass through one engine with the default token-cache bound.
import { generateKeyPairSync, sign } from "node:crypto";
import { createDescopeMcpAuth } from "@descope-mcp/core";

const total = Number(process.argv[2] ?? 1_000_000);
const bound = Number(process.argv[3] ?? 10_000);
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const jwks = { keys: [{ ...publicKey.export({ format: "jwk" }), kid: "bench", alg: "ES256", use: "sig" }] };
const P = "P2BenchMarkPr0jectId00000001";
const issuer = `https://api.descope.com/v1/apps/agentic/${P}/MBench`;
const auth = createDescopeMcpAuth({
  issuerURL: issuer,
  baseURL: "https://mcp.example.com",
  algorithms: ["ES256"],
  tokenCache: { maxEntries: bound },
  // Descope is replaced by an in-memory answer: this benchmark measures memory, not the network.
  fetch: async (url) =>
    String(url).endsWith("openid-configuration")
      ? Response.json({ issuer, jwks_uri: "https://api.descope.com/jwks" })
      : Response.json(jwks),
});
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const header = b64({ alg: "ES256", kid: "bench", typ: "JWT" });
const exp = Math.floor(Date.now() / 1000) + 3600;
const mint = (i) => {
  const payload = b64({
    iss: issuer,
    sub: `user-${i}`,
    aud: "https://mcp.example.com/mcp",
    exp,
    scope: "openid notes:write",
  });
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${header}.${payload}.${signature.toString("base64url")}`;
};
/** Resident set and live JS heap after a full collection. */
const measure = () => {
  globalThis.gc?.();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heap: heapUsed, external };
};
const samples = [];
const chunk = 10_000;
const checkpoints = new Set(
  [0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((f) =>
    Math.max(chunk, Math.round((total * f) / chunk) * chunk),
  ),
);
samples.push({ tokens: 0, ...measure(), cache: 0 });
for (let done = 0; done < total; ) {
  const batch = [];
  for (let i = 0; i < chunk && done + i < total; i++) batch.push(mint(done + i));
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < batch.length) await auth.verifyToken(batch[next++]);
    }),
  );
  done += batch.length;
  if (checkpoints.has(done)) samples.push({ tokens: done, ...measure(), cache: auth.stats().tokenCache.size });
}
console.log(JSON.stringify({ total, bound, samples, stats: auth.stats().tokenCache }));
