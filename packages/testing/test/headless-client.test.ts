import { createServer } from "node:http";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ClientMetadataHost,
  type DescopeEmulator,
  HeadlessOAuthClient,
  startClientMetadataHost,
  startDescopeEmulator,
} from "../src/index.js";
import { endpoints, pkce, REDIRECT_URI, registerClient } from "./helpers.js";

let emu: DescopeEmulator;
let host: ClientMetadataHost;
beforeAll(async () => {
  host = await startClientMetadataHost();
  emu = await startDescopeEmulator({ clientIdMetadataDocuments: { ca: host.ca } });
});
afterAll(async () => {
  await emu.close();
  await host.close();
});

/** GET over HTTPS trusting `ca`; resolves status, headers and body. */
function httpsGet(url: string, ca: string, method = "GET") {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request(url, { method, ca, agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("HeadlessOAuthClient", () => {
  it("describes a public client with one redirect URI", () => {
    const oauth = new HeadlessOAuthClient({
      clientName: "tests",
      scope: "openid",
      grantTypes: ["authorization_code", "refresh_token"],
    });
    expect(oauth.redirectUrl).toBe("http://127.0.0.1:1/oauth/callback");
    expect(oauth.clientMetadataUrl).toBeUndefined();
    expect(oauth.clientMetadata).toEqual({
      client_name: "tests",
      redirect_uris: ["http://127.0.0.1:1/oauth/callback"],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      scope: "openid",
    });
    expect(() => oauth.clientMetadataDocument).toThrow("HeadlessOAuthClient: no clientMetadataUrl was given");
  });

  it("publishes its metadata with client_id = clientMetadataUrl", () => {
    const url = "https://client.example/oauth/client.json";
    const oauth = new HeadlessOAuthClient({ clientMetadataUrl: url, redirectUrl: REDIRECT_URI });
    expect(oauth.clientMetadataDocument).toEqual({
      client_id: url,
      client_name: "descope-mcp headless client",
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    });
  });

  it.each(["http://client.example/client.json", "https://client.example", "https://client.example/", "not a url"])(
    "refuses clientMetadataUrl %s (the SDKs' rule: https with a path)",
    (url) => {
      expect(() => new HeadlessOAuthClient({ clientMetadataUrl: url })).toThrow(
        new TypeError(
          `HeadlessOAuthClient: clientMetadataUrl must be an https URL with a path (the MCP SDKs refuse anything else), got "${url}"`,
        ),
      );
    },
  );

  it("reports registration and metadata documents to onStep, never tokens", () => {
    const lines: string[] = [];
    const url = "https://client.example/c.json";
    const oauth = new HeadlessOAuthClient({ clientMetadataUrl: url, onStep: (l) => lines.push(l) });
    oauth.saveClientInformation({ client_id: url, issuer: emu.issuerURL });
    oauth.saveClientInformation({ client_id: "emu_client_x" });
    oauth.saveTokens({ access_token: "secret-token", token_type: "Bearer", scope: "openid" });
    expect(lines).toEqual([
      `client ID metadata document ${url} (no registration)`,
      "registered client emu_client_x",
      'received access token (scope "openid")',
    ]);
    expect(oauth.accessToken).toBe("secret-token");
    oauth.invalidateCredentials("tokens");
    expect(oauth.tokens()).toBeUndefined();
    expect(oauth.clientInformation()).toEqual({ client_id: "emu_client_x" });
    oauth.invalidateCredentials("all");
    expect(oauth.clientInformation()).toBeUndefined();
    expect(() => oauth.codeVerifier()).toThrow("No PKCE code verifier saved");
  });

  describe("redirectToAuthorization", () => {
    const authorizeURL = (params: Record<string, string>) => {
      const url = new URL(endpoints(emu).authorize);
      for (const [k, v] of Object.entries({
        response_type: "code",
        redirect_uri: REDIRECT_URI,
        code_challenge: pkce().challenge,
        code_challenge_method: "S256",
        ...params,
      }))
        url.searchParams.set(k, v);
      return url;
    };

    it("keeps the consented redirect once, with code, state and iss", async () => {
      const { client_id } = await registerClient(emu);
      const oauth = new HeadlessOAuthClient({ redirectUrl: REDIRECT_URI });
      const state = oauth.state();
      await oauth.redirectToAuthorization(authorizeURL({ client_id, state, scope: "openid notes:read" }));
      expect(oauth.authorizations).toBe(1);
      expect(oauth.lastRequestedScope).toBe("openid notes:read");
      expect(oauth.hasPendingCallback).toBe(true);
      const callback = oauth.takeCallback();
      expect(callback.searchParams.get("code")).toMatch(/^emu_code_/);
      expect(callback.searchParams.get("state")).toBe(state);
      expect(callback.searchParams.get("iss")).toBe(emu.issuerURL);
      expect(oauth.hasPendingCallback).toBe(false);
      expect(() => oauth.takeCallback()).toThrow("No authorization redirect is pending");
    });

    it("refuses a redirect whose state does not match", async () => {
      const { client_id } = await registerClient(emu);
      const oauth = new HeadlessOAuthClient();
      oauth.state();
      await expect(oauth.redirectToAuthorization(authorizeURL({ client_id, state: "forged" }))).rejects.toThrow(
        "OAuth state mismatch on the redirect",
      );
      expect(oauth.hasPendingCallback).toBe(false);
    });

    it("surfaces an error redirect and a non-redirect answer", async () => {
      const { client_id } = await registerClient(emu);
      const oauth = new HeadlessOAuthClient();
      const state = oauth.state();
      await expect(
        oauth.redirectToAuthorization(authorizeURL({ client_id, state, code_challenge_method: "plain" })),
      ).rejects.toThrow("Authorization failed: invalid_request code_challenge_method must be S256");
      await expect(oauth.redirectToAuthorization(authorizeURL({ client_id: "nobody", state }))).rejects.toThrow(
        'The authorization endpoint answered 400 instead of redirecting: {"error":"invalid_client","error_description":"Unknown client_id"}',
      );
    });
  });
});

describe("redirectToAuthorization against a misbehaving authorization server", () => {
  it("refuses a redirect without a code", async () => {
    const oauth = new HeadlessOAuthClient({ redirectUrl: REDIRECT_URI });
    const state = oauth.state();
    const server = createServer((_req, res) => {
      res.writeHead(302, { location: `${REDIRECT_URI}?state=${state}` }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`);
      await expect(oauth.redirectToAuthorization(url)).rejects.toThrow("The authorization redirect carries no code");
      expect(oauth.hasPendingCallback).toBe(false);
    } finally {
      server.close();
    }
  });
});

describe("startClientMetadataHost", () => {
  it("serves published documents over HTTPS with its own certificate, and records requests", async () => {
    const url = host.publish({ client_id: host.url("/a/client.json"), redirect_uris: [REDIRECT_URI] });
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/a\/client\.json$/);
    const before = host.requests.length;
    const res = await httpsGet(url, host.ca);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.body)).toEqual({ client_id: url, redirect_uris: [REDIRECT_URI] });
    expect(host.requests.slice(before)).toEqual([
      {
        method: "GET",
        path: "/a/client.json",
        headers: expect.objectContaining({ host: new URL(url).host }),
        at: expect.any(Number),
      },
    ]);
    const head = await httpsGet(url, host.ca, "HEAD");
    expect([head.status, head.body]).toEqual([200, ""]);
    const post = await httpsGet(url, host.ca, "POST");
    expect(post.status).toBe(404);
    host.unpublish("/a/client.json");
    expect((await httpsGet(url, host.ca)).status).toBe(404);
  });

  it("is not trusted by anything that was not given its certificate", async () => {
    const url = host.publish({ client_id: host.url("/untrusted.json"), redirect_uris: [REDIRECT_URI] });
    await expect(fetch(url)).rejects.toThrow("fetch failed");
  });

  it("serves raw answers for hostile cases", async () => {
    const url = host.serve("/raw", { status: 302, headers: { location: "https://elsewhere.example/" } });
    const res = await httpsGet(url, host.ca);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("https://elsewhere.example/");
  });

  it("checks what it is given", async () => {
    expect(() => host.url("client.json")).toThrow('ClientMetadataHost: a path must start with "/", got "client.json"');
    expect(() => host.publish({ client_id: "https://client.example/c.json", redirect_uris: [] })).toThrow(
      `ClientMetadataHost: the document's client_id must be a URL on ${host.baseURL}, got "https://client.example/c.json"`,
    );
    await expect(startClientMetadataHost({ host: "0.0.0.0" as "127.0.0.1" })).rejects.toThrow(
      "startClientMetadataHost: host must be 127.0.0.1, ::1 or localhost",
    );
  });

  it("closes idempotently", async () => {
    const other = await startClientMetadataHost();
    await Promise.all([other.close(), other.close()]);
    await expect(httpsGet(other.url("/x"), other.ca)).rejects.toThrow(/ECONNREFUSED/);
  });
});
