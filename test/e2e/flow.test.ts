import {
  type ClientMetadataHost,
  type DescopeEmulator,
  startClientMetadataHost,
  startDescopeEmulator,
} from "@descope-mcp/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runClientFlow } from "../../e2e/flow.mjs";
import { startExample } from "../../e2e/servers.mjs";
import { EXAMPLES } from "./examples.js";

const CAL = "https://www.googleapis.com/auth/calendar.readonly";

let emu: DescopeEmulator;
let host: ClientMetadataHost;
beforeAll(async () => {
  // The clients' "web site" for client ID metadata documents: HTTPS on 127.0.0.1 with a self-signed
  // certificate only this emulator trusts.
  host = await startClientMetadataHost();
  emu = await startDescopeEmulator({
    connections: { "google-calendar": { status: "connected", scopes: [CAL] } },
    clientIdMetadataDocuments: { ca: host.ca },
  });
});
afterAll(async () => {
  await emu?.close();
  await host?.close();
});

it("has at least the Express example built", () => {
  expect(EXAMPLES).toContain("express");
});

describe.each(EXAMPLES)("%s example: the official MCP client's full OAuth flow", (framework) => {
  describe.each([
    ["v2", "/mcp"],
    ["v1", "/mcp"],
    ["v2", "/api/v2/mcp"],
    ["v1", "/api/v2/mcp"],
  ] as const)("SDK %s client, MCP_PATH %s", (sdk, mcpPath) => {
    let server: Awaited<ReturnType<typeof startExample>>;
    beforeAll(async () => {
      server = await startExample(framework, { DESCOPE_ISSUER_URL: emu.issuerURL, MCP_PATH: mcpPath });
    });
    afterAll(() => server?.stop());

    it.each([
      ["dynamic client registration", "dcr"],
      ["a client ID metadata document", "cimd"],
    ] as const)(
      "runs 401 → discovery → %s → PKCE → tools → 403 step-up → write_note → connection_status",
      async (_label, registration) => {
        const prm = `${server.baseURL}/.well-known/oauth-protected-resource${mcpPath}`;
        const before = emu.requests.length;
        const fetchesBefore = host.requests.length;
        const result = await runClientFlow({ mcpURL: server.mcpURL, sdk, registration, clientMetadataHost: host });

        expect(result.steps[0]).toBe(
          `POST ${mcpPath} without a token → 401, WWW-Authenticate: Bearer scope="openid outbound.token.fetch", resource_metadata="${prm}"`,
        );
        // Discovery: the client followed resource_metadata, then the issuer's own metadata at Descope.
        const discovery = result.http.filter((h) => h.path.includes("/.well-known/"));
        expect(discovery[0]).toMatchObject({ url: prm, status: 200 });
        expect(discovery.some((h) => h.url.startsWith(emu.baseURL) && h.status === 200)).toBe(true);
        expect(result.tools).toEqual(["connection_status", "profile", "whoami", "write_note"]);
        expect(result.whoami).toMatchObject({ userId: "U2EmulatorUser0001", email: "ada@example.com" });
        expect(result.whoami.scopes.sort()).toEqual(["openid", "outbound.token.fetch"]);
        expect(result.refused).toMatchObject({
          status: 403,
          challenge: `Bearer error="insufficient_scope", error_description="The access token lacks required scopes: notes:write", scope="notes:write openid outbound.token.fetch", resource_metadata="${prm}"`,
        });
        expect(result.authorizations).toBe(2);
        expect(result.oauth.lastRequestedScope?.split(" ").sort()).toEqual([
          "notes:write",
          "openid",
          "outbound.token.fetch",
        ]);
        expect(result.note).toEqual({ saved: true, length: 19 });
        expect(result.connection).toEqual({ appId: "google-calendar", connected: true });

        // What reached "Descope": registration (DCR only), authorize twice, token twice, a connection-token
        // call authenticated with the caller's own token.
        const descope = emu.requests.slice(before);
        const registrations = descope.filter((r) => r.path.endsWith("/register"));
        const metadataFetches = host.requests.slice(fetchesBefore);
        if (registration === "dcr") {
          expect(registrations).toHaveLength(1);
          expect(result.clientId).toMatch(/^emu_client_/);
          expect(metadataFetches).toEqual([]);
        } else {
          // No registration: the client_id is the document's URL, which the emulator fetched at each of
          // the two authorize and two token requests; the access token's azp is that URL.
          expect(registrations).toEqual([]);
          expect(result.clientId).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/clients\//);
          expect(result.steps).toContain(`client ID metadata document ${result.clientId} (no registration)`);
          const path = new URL(result.clientId as string).pathname;
          expect(metadataFetches.map((r) => `${r.method} ${r.path}`)).toEqual(Array(4).fill(`GET ${path}`));
          expect(descope.filter((r) => r.path.endsWith("/authorize")).map((r) => r.query.client_id)).toEqual([
            result.clientId,
            result.clientId,
          ]);
        }
        expect(result.whoami.clientId).toBe(result.clientId);
        const outbound = descope.filter((r) => r.path === "/v1/mgmt/outbound/app/user/token").at(-1);
        expect(outbound?.body).toMatchObject({ appId: "google-calendar", userId: "U2EmulatorUser0001", scopes: [CAL] });
        expect(outbound?.headers.authorization).toBe(`Bearer ${emu.projectId}:${result.oauth.accessToken}`);
        // The token's audience is this server's resource URL (RFC 8707 resource indicator).
        const token = descope.filter((r) => r.path.startsWith("/oauth2/") && r.path.endsWith("/token")).at(-1);
        expect((token?.body as Record<string, string> | undefined)?.resource).toBe(server.mcpURL);
      },
    );
  });
});
