import { describe, expect, it } from "vitest";
import { ConfigurationError, createIssuerMatcher, projectIdFromPath, regionOf, resolveIssuer } from "../src/index.js";

const P = "P2abcdefghijklmnopqrstuvwxyz"; // 28 chars: US
const PEU = "Peuc12abcdefghijklmnopqrstuvwxy"; // wrong length on purpose below
const P_EU = "Peuc1abcdefghijklmnopqrstuvwxyz1"; // 32 chars: region euc1
const M = "MS2xyz";

describe("project IDs", () => {
  it("has the documented lengths", () => {
    expect(P).toHaveLength(28);
    expect(P_EU).toHaveLength(32);
    expect(PEU).toHaveLength(31);
  });
  it("derives the region only from 32-character IDs", () => {
    expect(regionOf(P)).toBeUndefined();
    expect(regionOf(P_EU)).toBe("euc1");
    expect(regionOf("Paps2abcdefghijklmnopqrstuvwxyz1")).toBe("aps2");
  });
  it("takes the segment after agentic, then after apps, then the first ID-shaped one — never 'v1'", () => {
    expect(projectIdFromPath(`/v1/apps/agentic/${P}/${M}`)).toEqual({ projectId: P, mcpServerId: M });
    expect(projectIdFromPath(`/v1/apps/${P}`)).toEqual({ projectId: P });
    expect(projectIdFromPath(`/v1/apps/${P}/T2tenant`)).toEqual({ projectId: P });
    expect(projectIdFromPath(`/${P}`)).toEqual({ projectId: P });
    expect(projectIdFromPath(`/v1/other`)).toEqual({});
  });
});

describe("resolveIssuer", () => {
  it("parses an agentic MCP-server issuer URL (US)", () => {
    expect(resolveIssuer({ issuerURL: `https://api.descope.com/v1/apps/agentic/${P}/${M}` })).toEqual({
      issuer: `https://api.descope.com/v1/apps/agentic/${P}/${M}`,
      projectId: P,
      mcpServerId: M,
      region: undefined,
      apiBaseURL: "https://api.descope.com",
      discoveryURL: `https://api.descope.com/v1/apps/agentic/${P}/${M}/.well-known/openid-configuration`,
      fallbackJwksURL: `https://api.descope.com/${P}/.well-known/jwks.json`,
      origins: ["https://api.descope.com"],
    });
  });

  it("parses an EU issuer and keeps the issuer's origin as API base", () => {
    const r = resolveIssuer({ issuerURL: `https://api.euc1.descope.com/v1/apps/agentic/${P_EU}/${M}` });
    expect(r.projectId).toBe(P_EU);
    expect(r.region).toBe("euc1");
    expect(r.apiBaseURL).toBe("https://api.euc1.descope.com");
    expect(r.fallbackJwksURL).toBe(`https://api.euc1.descope.com/${P_EU}/.well-known/jwks.json`);
  });

  it("parses a well-known URL (trailing slash tolerated)", () => {
    const r = resolveIssuer({
      wellKnownURL: `https://api.descope.com/v1/apps/agentic/${P}/${M}/.well-known/openid-configuration/`,
    });
    expect(r.issuer).toBe(`https://api.descope.com/v1/apps/agentic/${P}/${M}`);
    expect(r.discoveryURL).toBe(`https://api.descope.com/v1/apps/agentic/${P}/${M}/.well-known/openid-configuration`);
    expect(r.mcpServerId).toBe(M);
  });

  it("parses the RFC 8414 path-inserted well-known form", () => {
    const r = resolveIssuer({
      wellKnownURL: `https://api.descope.com/.well-known/oauth-authorization-server/v1/apps/agentic/${P}/${M}`,
    });
    expect(r.issuer).toBe(`https://api.descope.com/v1/apps/agentic/${P}/${M}`);
    expect(r.projectId).toBe(P);
  });

  it("parses project-level, tenant and bare issuers", () => {
    expect(resolveIssuer({ issuerURL: `https://api.descope.com/v1/apps/${P}` }).projectId).toBe(P);
    expect(resolveIssuer({ issuerURL: `https://api.descope.com/v1/apps/${P}/T2tenant` }).projectId).toBe(P);
    const bare = resolveIssuer({ issuerURL: `https://api.descope.com/${P}` });
    expect(bare.projectId).toBe(P);
    expect(bare.mcpServerId).toBeUndefined();
  });

  it("keeps a custom domain as issuer origin and API base", () => {
    const r = resolveIssuer({ issuerURL: `https://auth.example.com/v1/apps/agentic/${P}/${M}` });
    expect(r.apiBaseURL).toBe("https://auth.example.com");
    expect(r.origins).toEqual(["https://auth.example.com"]);
  });

  it("lets descopeBaseURL override the API base while keeping both origins", () => {
    const r = resolveIssuer({
      issuerURL: `https://auth.example.com/v1/apps/agentic/${P}/${M}`,
      descopeBaseURL: "https://api.descope.com/",
    });
    expect(r.apiBaseURL).toBe("https://api.descope.com");
    expect(r.origins).toEqual(["https://auth.example.com", "https://api.descope.com"]);
  });

  it("builds everything from a project ID: US default, region from EU IDs, base URL override", () => {
    expect(resolveIssuer({ projectId: P })).toMatchObject({
      issuer: `https://api.descope.com/v1/apps/${P}`,
      apiBaseURL: "https://api.descope.com",
      discoveryURL: `https://api.descope.com/v1/apps/${P}/.well-known/openid-configuration`,
    });
    expect(resolveIssuer({ projectId: P_EU })).toMatchObject({
      issuer: `https://api.euc1.descope.com/v1/apps/${P_EU}`,
      apiBaseURL: "https://api.euc1.descope.com",
      region: "euc1",
    });
    expect(resolveIssuer({ projectId: P, descopeBaseURL: "http://127.0.0.1:4000" })).toMatchObject({
      issuer: `http://127.0.0.1:4000/v1/apps/${P}`,
      apiBaseURL: "http://127.0.0.1:4000",
    });
  });

  it.each([
    [{}, "One of issuerURL, wellKnownURL or projectId is required"],
    [{ issuerURL: "not a url" }, 'issuerURL must be an absolute URL, got "not a url"'],
    [{ issuerURL: `ftp://api.descope.com/${P}` }, "issuerURL must use https (or http for local testing), got ftp:"],
    [{ issuerURL: "https://api.descope.com/v1/apps" }, "issuerURL does not contain a Descope project ID"],
    [{ issuerURL: `https://api.descope.com/${P}?x=1` }, "issuerURL must not contain a query or fragment"],
    [{ issuerURL: `https://u:p@api.descope.com/${P}` }, "issuerURL must not contain credentials"],
    [{ wellKnownURL: `https://api.descope.com/v1/apps/${P}` }, "wellKnownURL must be a discovery URL"],
    [
      { issuerURL: `https://api.descope.com/${P}`, wellKnownURL: `https://x/${P}/.well-known/openid-configuration` },
      "Give either issuerURL or wellKnownURL, not both",
    ],
    [{ projectId: "v1" }, "projectId must look like a Descope project ID"],
    [
      { issuerURL: `https://api.descope.com/${P}`, projectId: P_EU },
      `projectId ${P_EU} does not match the issuerURL (${P})`,
    ],
  ])("refuses %j", (input, message) => {
    let thrown: unknown;
    try {
      resolveIssuer(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).code).toBe("configuration");
    expect((thrown as Error).message).toContain(message);
  });
});

describe("issuer family", () => {
  const r = resolveIssuer({ issuerURL: `https://api.descope.com/v1/apps/agentic/${P}/${M}` });
  const accepts = createIssuerMatcher(r);
  it.each([
    `https://api.descope.com/v1/apps/agentic/${P}/${M}`,
    `https://api.descope.com/v1/apps/agentic/${P}/MOtherServer`,
    `https://api.descope.com/v1/apps/${P}`,
    `https://api.descope.com/v1/apps/${P}/T2tenant`,
    `https://api.descope.com/${P}`,
    P,
  ])("accepts %s", (iss) => expect(accepts(iss)).toBe(true));

  it.each([
    ["another project", "https://api.descope.com/v1/apps/agentic/P2otherprojectidxxxxxxxxxxxx/M1"],
    ["another host", `https://api.evil.example/v1/apps/agentic/${P}/${M}`],
    ["http instead of https", `http://api.descope.com/v1/apps/${P}`],
    ["another port", `https://api.descope.com:8443/v1/apps/${P}`],
    ["a longer path", `https://api.descope.com/v1/apps/agentic/${P}/${M}/extra`],
    ["a dot-segment path", `https://api.descope.com/x/../v1/apps/${P}`],
    ["an encoded path", `https://api.descope.com/v1/apps/%50${P.slice(1)}`],
    ["a query", `https://api.descope.com/v1/apps/${P}?a=b`],
    ["a fragment", `https://api.descope.com/v1/apps/${P}#x`],
    ["userinfo", `https://a@api.descope.com/v1/apps/${P}`],
    ["a prefix of the ID", `https://api.descope.com/v1/apps/${P}x`],
    ["another bare ID", "P2otherprojectidxxxxxxxxxxxx"],
    ["the empty string", ""],
    ["a number", 42],
    ["missing", undefined],
  ])("refuses %s", (_name, iss) => expect(accepts(iss)).toBe(false));
});
