import { describe, expect, it } from "vitest";
import {
  ConfigurationError,
  createDescopeMcpAuth,
  createDescopeMcpAuthFromEnv,
  UnauthorizedError,
} from "../src/index.js";

const P = "P2abcdefghijklmnopqrstuvwxyz";
const issuerURL = `https://api.descope.com/v1/apps/agentic/${P}/MS1`;

function configError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error("expected a ConfigurationError");
}

describe("createDescopeMcpAuth options", () => {
  it("applies the documented defaults", () => {
    const auth = createDescopeMcpAuth({ issuerURL, baseURL: "https://mcp.example.com/" });
    expect(auth.config).toMatchObject({
      baseURL: "https://mcp.example.com",
      mcpPath: "/mcp",
      resourceURL: "https://mcp.example.com/mcp",
      audience: ["https://mcp.example.com/mcp"],
      algorithms: ["RS256"],
      clockToleranceSeconds: 5,
      maxTokenLength: 8192,
      requiredScopes: [],
      toolScopes: {},
      scopesSupported: ["openid"],
      // Least privilege on the first sign-in: the 401 names `openid`, never every supported scope.
      challengeScopes: ["openid"],
      resourceMetadataURL: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
      timeouts: { request: 5000, discovery: 5000, jwks: 5000, connections: 10000, management: 10000 },
      bodyLimit: 4 * 1024 * 1024,
      cors: true,
    });
    // Server-wide scopes are the first sign-in's scopes; per-tool scopes come later, by step-up.
    const scoped = createDescopeMcpAuth({
      issuerURL,
      baseURL: "https://mcp.example.com",
      requiredScopes: ["mcp:use"],
      toolScopes: { write_note: ["notes:write"] },
    });
    expect(scoped.config.challengeScopes).toEqual(["mcp:use"]);
    expect(scoped.config.scopesSupported).toEqual(["mcp:use", "notes:write"]);
    const toolsOnly = createDescopeMcpAuth({ issuerURL, baseURL: "https://x.example", toolScopes: { w: ["n:w"] } });
    expect(toolsOnly.errorResult(new UnauthorizedError()).headers["www-authenticate"]).toBe(
      'Bearer scope="openid", resource_metadata="https://x.example/.well-known/oauth-protected-resource/mcp"',
    );
    expect(createDescopeMcpAuth({ issuerURL, baseURL: "https://x.example", bodyLimit: "512kb" }).config.bodyLimit).toBe(
      512 * 1024,
    );
    expect(auth.config.issuer.issuer).toBe(issuerURL);
  });

  it("takes a path of slashes only as the root, and keeps the management key out of the printed config", () => {
    const root = createDescopeMcpAuth({ issuerURL, baseURL: "https://h.example", mcpPath: "//" });
    expect(root.config.mcpPath).toBe("/");
    expect(root.config.resourceURL).toBe("https://h.example");
    const keyed = createDescopeMcpAuth({
      issuerURL,
      baseURL: "https://h.example",
      managementKey: "K2-secret-management-key",
    });
    expect(keyed.config.managementKey).toBe("K2-secret-management-key");
    expect(JSON.stringify(keyed.config)).not.toContain("K2-secret");
    expect(Object.keys(keyed.config)).not.toContain("managementKey");
    expect(Object.isFrozen(keyed.config)).toBe(true);
  });

  it("handles a custom MCP path and a base URL with a path prefix", () => {
    const auth = createDescopeMcpAuth({ issuerURL, baseURL: "https://h.example/tenant-a", mcpPath: "/api/v2/mcp/" });
    expect(auth.config.resourceURL).toBe("https://h.example/tenant-a/api/v2/mcp");
    expect(auth.config.resourceMetadataURL).toBe(
      "https://h.example/.well-known/oauth-protected-resource/tenant-a/api/v2/mcp",
    );
  });

  it("derives scopes_supported from required and tool scopes, never offline_access", () => {
    const auth = createDescopeMcpAuth({
      issuerURL,
      baseURL: "https://mcp.example.com",
      requiredScopes: ["mcp"],
      toolScopes: { a: ["notes:write", "mcp"] },
    });
    expect(auth.config.scopesSupported).toEqual(["mcp", "notes:write"]);
    const explicit = createDescopeMcpAuth({
      issuerURL,
      baseURL: "https://m.example",
      scopesSupported: ["x", "offline_access"],
    });
    expect(explicit.config.scopesSupported).toEqual(["x"]);
  });

  it.each([
    [{ issuerURL }, "baseURL", "baseURL is required"],
    [{ issuerURL, baseURL: "mcp.example.com" }, "baseURL", "baseURL must be an absolute http(s) URL"],
    [{ issuerURL, baseURL: "https://m.example/?q=1" }, "baseURL", "baseURL must be an origin"],
    [
      { issuerURL, baseURL: "https://m.example", mcpPath: "mcp" },
      "mcpPath",
      "mcpPath must be a path starting with '/'",
    ],
    [{ issuerURL, baseURL: "https://m.example", mcpPath: "/mcp/:id" }, "mcpPath", "mcpPath must be a path starting"],
    [{ issuerURL, baseURL: "https://m.example", mcpPath: "/m(c)p*" }, "mcpPath", "mcpPath must be a path starting"],
    [{ issuerURL, baseURL: "https://m.example", mcpPath: "/m%63p" }, "mcpPath", "mcpPath must be a path starting"],
    [
      { issuerURL, baseURL: "https://m.example", algorithms: ["HS256"] },
      "algorithms",
      "algorithms.0 must list only asymmetric algorithms",
    ],
    [
      { issuerURL, baseURL: "https://m.example", algorithms: ["none"] },
      "algorithms",
      "algorithms.0 must list only asymmetric",
    ],
    [{ issuerURL, baseURL: "https://m.example", algorithms: [] }, "algorithms", "algorithms"],
    [
      { issuerURL, baseURL: "https://m.example", requiredScopes: ['a"b'] },
      "requiredScopes",
      "requiredScopes.0 must be a scope token",
    ],
    [
      { issuerURL, baseURL: "https://m.example", toolScopes: { t: ["a b"] } },
      "toolScopes",
      "toolScopes.t.0 must be a scope token",
    ],
    [
      { issuerURL, baseURL: "https://m.example", clockToleranceSeconds: -1 },
      "clockToleranceSeconds",
      "clockToleranceSeconds",
    ],
    [{ issuerURL, baseURL: "https://m.example", audience: [] }, "audience", "audience"],
    [{ issuerURL, baseURL: "https://m.example", fetch: "nope" }, "fetch", "fetch must be a function"],
    [{ issuerURL, baseURL: "https://m.example", timeouts: { jwks: 0 } }, "timeouts", "timeouts.jwks"],
    [{ issuerURL, baseURL: "https://m.example", audiance: "x" }, "audiance", "Unknown option 'audiance'"],
    [{ baseURL: "https://m.example" }, "issuerURL", "One of issuerURL, wellKnownURL or projectId is required"],
    [
      { issuerURL: "https://api.descope.com/v1/nothing", baseURL: "https://m.example" },
      "issuerURL",
      "issuerURL does not contain a Descope project ID",
    ],
  ])("refuses %j naming %s", (options, field, message) => {
    const error = configError(() => createDescopeMcpAuth(options as never));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
    expect(error.code).toBe("configuration");
  });

  it("refuses a non-object", () => {
    expect(configError(() => createDescopeMcpAuth(undefined as never)).message).toBe(
      "createDescopeMcpAuth expects an options object",
    );
  });
});

describe("createDescopeMcpAuthFromEnv", () => {
  it("reads every documented variable", () => {
    const auth = createDescopeMcpAuthFromEnv({
      DESCOPE_ISSUER_URL: issuerURL,
      DESCOPE_BASE_URL: "https://api.descope.com",
      BASE_URL: "http://127.0.0.1:3001",
      MCP_PATH: "/api/v2/mcp",
      DESCOPE_MANAGEMENT_KEY: "K123",
    });
    expect(auth.config.resourceURL).toBe("http://127.0.0.1:3001/api/v2/mcp");
    expect(auth.config.managementKey).toBe("K123");
    expect(auth.config.issuer.projectId).toBe(P);
  });

  it("reads a well-known URL or a project ID", () => {
    expect(
      createDescopeMcpAuthFromEnv({
        DESCOPE_WELL_KNOWN_URL: `${issuerURL}/.well-known/openid-configuration`,
        BASE_URL: "https://m.example",
      }).config.issuer.issuer,
    ).toBe(issuerURL);
    expect(
      createDescopeMcpAuthFromEnv({ DESCOPE_PROJECT_ID: P, BASE_URL: "https://m.example" }).config.issuer.issuer,
    ).toBe(`https://api.descope.com/v1/apps/${P}`);
  });

  it("names the environment variable in errors", () => {
    const missing = configError(() => createDescopeMcpAuthFromEnv({ DESCOPE_ISSUER_URL: issuerURL }));
    expect(missing.message).toBe("BASE_URL is required");
    expect(missing.field).toBe("BASE_URL");
    const bad = configError(() =>
      createDescopeMcpAuthFromEnv({ DESCOPE_ISSUER_URL: "nope", BASE_URL: "https://m.example" }),
    );
    expect(bad.message).toBe("DESCOPE_ISSUER_URL must be an absolute http(s) URL");
    const none = configError(() =>
      createDescopeMcpAuthFromEnv({ BASE_URL: "https://m.example", DESCOPE_ISSUER_URL: "" }),
    );
    expect(none.message).toBe("One of DESCOPE_ISSUER_URL, DESCOPE_WELL_KNOWN_URL or DESCOPE_PROJECT_ID is required");
  });

  it("lets overrides win", () => {
    const auth = createDescopeMcpAuthFromEnv(
      { DESCOPE_ISSUER_URL: issuerURL, BASE_URL: "https://a.example" },
      { baseURL: "https://b.example" },
    );
    expect(auth.config.baseURL).toBe("https://b.example");
  });
});
