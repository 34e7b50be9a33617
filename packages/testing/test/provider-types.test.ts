// HeadlessOAuthClient is typed as both MCP SDK majors' OAuthClientProvider, without a cast and without a
// dependency on either SDK (its types are structural). The type-level half is checked by `tsc`
// (`pnpm typecheck` includes this file): it stops compiling if the class stops being assignable to v1's
// or v2's provider interface. The runtime half hands the provider to both majors' transports.
import {
  type OAuthClientProvider as OAuthClientProviderV2,
  StreamableHTTPClientTransport as TransportV2,
} from "@modelcontextprotocol/client";
import type { OAuthClientProvider as OAuthClientProviderV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, expectTypeOf, it } from "vitest";
import { HeadlessOAuthClient } from "../src/index.js";

describe("HeadlessOAuthClient as the SDKs' OAuthClientProvider", () => {
  it("is assignable to v2's and v1's OAuthClientProvider (type level)", () => {
    expectTypeOf<HeadlessOAuthClient>().toExtend<OAuthClientProviderV2>();
    expectTypeOf<HeadlessOAuthClient>().toExtend<OAuthClientProviderV1>();
    // The check has teeth: the old `clientMetadata: Record<string, unknown>` (no `redirect_uris`) fails it.
    type Loose = Omit<HeadlessOAuthClient, "clientMetadata"> & { readonly clientMetadata: Record<string, unknown> };
    expectTypeOf<Loose>().not.toExtend<OAuthClientProviderV2>();
    expectTypeOf<Loose>().not.toExtend<OAuthClientProviderV1>();
  });

  it("is accepted as `authProvider` by both majors' transports, with and without a metadata URL", () => {
    const url = new URL("http://127.0.0.1:1/mcp");
    for (const oauth of [
      new HeadlessOAuthClient(),
      new HeadlessOAuthClient({ clientMetadataUrl: "https://client.example/oauth/client.json" }),
    ]) {
      const asV2: OAuthClientProviderV2 = oauth;
      const asV1: OAuthClientProviderV1 = oauth;
      expect(new TransportV2(url, { authProvider: oauth })).toBeInstanceOf(TransportV2);
      expect(new TransportV1(url, { authProvider: oauth })).toBeInstanceOf(TransportV1);
      // What the SDKs read from the provider to choose between registration and a metadata document.
      expect(asV2.clientMetadataUrl).toBe(oauth.clientMetadataUrl);
      expect(asV1.clientMetadata.redirect_uris).toEqual([oauth.redirectUrl]);
    }
  });
});
