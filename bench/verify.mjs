// Benchmarks 1–3: verification speed (hot and cold) and upstream fetch sharing.

import DescopeClient from "@descope/node-sdk";
import { createDescopeMcpAuth } from "@descope-mcp/core";
import { startDescopeEmulator } from "@descope-mcp/testing";
import { createLocalJWKSet, jwtVerify } from "jose";
import { clock, fmt, opsPerSecond, ratio, table, throughput } from "./lib.mjs";

const RESOURCE = "https://mcp.example.com/mcp";

export async function benchVerify({ smoke }) {
  const emu = await startDescopeEmulator({ audience: RESOURCE });
  const results = {};
  try {
    const jwksResponse = await fetch(emu.jwksURL);
    const jwks = createLocalJWKSet(await jwksResponse.json());
    const token = await emu.mintToken({ scope: "openid notes:write" });
    const joseOptions = { algorithms: ["RS256"], audience: RESOURCE, issuer: emu.issuerURL, clockTolerance: 5 };

    // 1. One repeated token.
    const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: "https://mcp.example.com" });
    await auth.verifyToken(token);
    const descope = DescopeClient({ projectId: emu.projectId, baseUrl: emu.baseURL });
    await descope.validateJwt(token);
    const ms = smoke ? 150 : 2000;
    const core = await opsPerSecond(() => auth.verifyToken(token), { ms });
    const jose = await opsPerSecond(() => jwtVerify(token, jwks, joseOptions), { ms });
    const sdk = await opsPerSecond(() => descope.validateJwt(token), { ms });
    results.repeated = { core, jose, sdk };
    table(
      "1. verifyToken on one repeated token (ops/s, sequential, one core)",
      ["verifier", "ops/s", "core ÷ this"],
      [
        ["@descope-mcp/core verifyToken (cache hit)", fmt(core), "1.00×"],
        ["jose jwtVerify (bare)", fmt(jose), ratio(core, jose)],
        ["@descope/node-sdk validateJwt", fmt(sdk), ratio(core, sdk)],
      ],
    );

    // 2. Distinct tokens: every verification is cold (signature work), same tokens for both.
    const count = smoke ? 200 : 4000;
    const tokens = [];
    for (let i = 0; i < count; i++) tokens.push(await emu.mintToken({ jti: `cold-${i}` }));
    const rounds = smoke ? 1 : 3;
    const coldCore = [];
    const coldJose = [];
    for (let r = 0; r < rounds; r++) {
      const fresh = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: "https://mcp.example.com" });
      await fresh.verifyToken(token); // keys loaded; the measured tokens are all new to it
      coldJose.push(await throughput(tokens, (t) => jwtVerify(t, jwks, joseOptions), 1));
      coldCore.push(await throughput(tokens, (t) => fresh.verifyToken(t), 1));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    results.cold = { core: median(coldCore), jose: median(coldJose) };
    table(
      `2. ${count.toLocaleString("en-US")} distinct tokens, cold path (ops/s, median of ${rounds})`,
      ["verifier", "ops/s", "core ÷ this"],
      [
        ["@descope-mcp/core verifyToken (cold)", fmt(results.cold.core), "1.00×"],
        ["jose jwtVerify (bare)", fmt(results.cold.jose), ratio(results.cold.core, results.cold.jose)],
      ],
    );

    // 3. Upstream fetch sharing.
    const concurrent = 1000;
    const many = [];
    for (let i = 0; i < concurrent; i++) many.push(await emu.mintToken({ jti: `c-${i}` }));
    emu.clearRequests();
    const cold = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: "https://mcp.example.com" });
    await Promise.all(many.map((t) => cold.verifyToken(t)));
    const jwksPath = new URL(emu.jwksURL).pathname;
    const coldFetches = emu.requests.filter((r) => r.path === jwksPath).length;
    const unknown = await Promise.all(Array.from({ length: concurrent }, () => emu.tokens.unknownKid()));
    const c = clock();
    const kidAuth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: "https://mcp.example.com", now: c.now });
    await kidAuth.verifyToken(token);
    emu.clearRequests();
    c.advance(31); // past the cool-down of the warm-up fetch: a refetch is allowed, once
    await Promise.all(unknown.map((t) => kidAuth.verifyToken(t).catch(() => undefined)));
    await Promise.all(unknown.map((t) => kidAuth.verifyToken(t).catch(() => undefined)));
    const kidFetches = emu.requests.filter((r) => r.path === jwksPath).length;
    results.fetches = { coldFetches, kidFetches };
    table(
      "3. Upstream fetches",
      ["scenario", "JWKS fetches", "target"],
      [
        [`${concurrent} concurrent first requests (cold instance)`, coldFetches, "exactly 1"],
        [`${concurrent} unknown-kid tokens ×2 waves, after the cool-down`, kidFetches, "≤ 2"],
      ],
    );
  } finally {
    await emu.close();
  }
  return results;
}
