// Client ID Metadata Documents: the client_id is an https URL; the emulator fetches and validates the
// document behind it at authorize and token time. Documents are served over real HTTPS on 127.0.0.1 by
// startClientMetadataHost (a self-signed certificate the emulator is told to trust).
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ClientMetadataHost,
  type DescopeEmulator,
  startClientMetadataHost,
  startDescopeEmulator,
} from "../src/index.js";
import {
  authorizeParams,
  authorizeRaw,
  endpoints,
  getCode,
  payload,
  REDIRECT_URI,
  RESOURCE,
  tokenRequest,
} from "./helpers.js";

let host: ClientMetadataHost;
let emu: DescopeEmulator;
beforeAll(async () => {
  host = await startClientMetadataHost();
  emu = await startDescopeEmulator({ clientIdMetadataDocuments: { ca: host.ca, maxBytes: 2048 } });
});
afterAll(async () => {
  await emu.close();
  await host.close();
});

let counter = 0;
/** Publishes a fresh, valid document (with `overrides`) and returns its URL. */
function publish(overrides: Record<string, unknown> = {}): string {
  const id = host.url(`/clients/${++counter}.json`);
  host.publish({ client_id: id, client_name: "CIMD test client", redirect_uris: [REDIRECT_URI], ...overrides });
  return id;
}

/** Serves `document` (any JSON) at a fresh path and returns its URL. */
function serveJson(document: (url: string) => unknown, headers?: Record<string, string>): string {
  const path = `/raw/${++counter}.json`;
  return host.serve(path, { body: JSON.stringify(document(host.url(path))), ...(headers ? { headers } : {}) });
}

/** A published client, a fresh code for it, and the token request form that redeems the code. */
async function redeemable(overrides: Record<string, unknown> = {}) {
  const id = publish(overrides);
  const { code, verifier } = await getCode(emu, id);
  const form = {
    grant_type: "authorization_code",
    code,
    code_verifier: verifier,
    client_id: id,
    redirect_uri: REDIRECT_URI,
  };
  return { id, form };
}

const fetchesOf = (url: string) => host.requests.filter((r) => r.path === new URL(url).pathname);

/** Authorize must answer `status` JSON `{ error, error_description }` and never redirect. */
async function expectAuthorizeRefused(
  clientId: string,
  status: number,
  error: string,
  description: string,
  emulator = emu,
) {
  const res = await authorizeRaw(emulator, { ...authorizeParams(clientId).params });
  expect(res.status).toBe(status);
  expect(res.headers.get("location")).toBeNull();
  expect(await res.json()).toEqual({ error, error_description: description });
}

describe("discovery", () => {
  it("advertises client_id_metadata_document_supported beside the registration endpoint", async () => {
    const doc = (await (await fetch(emu.wellKnownURL)).json()) as Record<string, unknown>;
    expect(doc.client_id_metadata_document_supported).toBe(true);
    expect(doc.registration_endpoint).toBe(endpoints(emu).register);
    expect(doc.token_endpoint_auth_methods_supported).toContain("none");
  });

  it("clientIdMetadataDocuments: false — not advertised, and a URL client_id is an unknown client (never fetched)", async () => {
    const off = await startDescopeEmulator({ clientIdMetadataDocuments: false });
    try {
      const doc = (await (await fetch(off.wellKnownURL)).json()) as Record<string, unknown>;
      expect(doc).not.toHaveProperty("client_id_metadata_document_supported");
      const id = publish();
      const res = await authorizeRaw(off, { client_id: id, redirect_uri: REDIRECT_URI, response_type: "code" });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "invalid_client", error_description: "Unknown client_id" });
      expect(fetchesOf(id)).toEqual([]);
    } finally {
      await off.close();
    }
  });

  it("dynamicClientRegistration: false — no registration_endpoint, the registration path answers 404", async () => {
    const off = await startDescopeEmulator({ dynamicClientRegistration: false });
    try {
      const doc = (await (await fetch(off.wellKnownURL)).json()) as Record<string, unknown>;
      expect(doc).not.toHaveProperty("registration_endpoint");
      expect(doc.client_id_metadata_document_supported).toBe(true);
      const res = await fetch(endpoints(off).register, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }),
      });
      expect(res.status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it("checks its options", async () => {
    await expect(startDescopeEmulator({ clientIdMetadataDocuments: { timeoutMs: 0 } })).rejects.toThrow(
      "startDescopeEmulator: clientIdMetadataDocuments.timeoutMs must be a positive integer",
    );
    await expect(startDescopeEmulator({ clientIdMetadataDocuments: { maxBytes: 1.5 } })).rejects.toThrow(
      "startDescopeEmulator: clientIdMetadataDocuments.maxBytes must be a positive integer",
    );
    await expect(startDescopeEmulator({ clientIdMetadataDocuments: { ca: [1 as unknown as string] } })).rejects.toThrow(
      "startDescopeEmulator: clientIdMetadataDocuments.ca must be a PEM string or an array of them",
    );
  });
});

describe("the code flow with a client ID metadata document", () => {
  it("fetches the document at authorize and at the token endpoint, and issues tokens to the URL", async () => {
    const id = publish({ scope: "openid" });
    const { code, verifier, location } = await getCode(emu, id);
    expect(location.origin + location.pathname).toBe(REDIRECT_URI);
    expect(location.searchParams.get("iss")).toBe(emu.issuerURL);
    const fetches = fetchesOf(id);
    expect(fetches).toHaveLength(1);
    expect(fetches[0]).toMatchObject({ method: "GET", headers: { accept: "application/json" } });

    const res = await tokenRequest(emu, {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: id,
      resource: RESOURCE,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty("refresh_token"); // grant_types defaults to authorization_code only
    expect(payload(body.access_token as string)).toMatchObject({ azp: id, aud: RESOURCE, scope: "openid notes:read" });
    expect(fetchesOf(id)).toHaveLength(2);
  });

  it("accepts an omitted redirect_uri when the document lists exactly one", async () => {
    const id = publish();
    const { location } = await getCode(emu, id, { redirect_uri: undefined });
    expect(location.origin + location.pathname).toBe(REDIRECT_URI);
  });

  it("issues and rotates refresh tokens when the document lists the refresh_token grant", async () => {
    const { id, form } = await redeemable({ grant_types: ["authorization_code", "refresh_token"] });
    const first = (await (await tokenRequest(emu, form)).json()) as Record<string, string>;
    expect(first.refresh_token).toMatch(/^emu_rt_/);
    const refreshed = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
      client_id: id,
    });
    expect(refreshed.status).toBe(200);
    expect(fetchesOf(id)).toHaveLength(3);
  });

  it("accepts a more specific JSON content type (application/<x>+json)", async () => {
    const id = serveJson((url) => ({ client_id: url, redirect_uris: [REDIRECT_URI] }), {
      "content-type": "application/vnd.example.client+json; charset=utf-8",
    });
    await getCode(emu, id);
  });
});

describe("authorize refuses without redirecting (the redirect URI cannot be trusted yet)", () => {
  const shape = "A client ID metadata document URL";
  it.each([
    ["http scheme", (b: string) => `${b.replace("https:", "http:")}/client.json`, `${shape} must use the https scheme`],
    ["no path", (b: string) => b, `${shape} must have a path`],
    ["root path", (b: string) => `${b}/`, `${shape} must have a path`],
    ["a fragment", (b: string) => `${b}/client.json#x`, `${shape} must not contain a fragment`],
    [
      "user information",
      (b: string) => `${b.replace("https://", "https://user:pw@")}/c.json`,
      `${shape} must not contain user information`,
    ],
    ["a .. segment", (b: string) => `${b}/a/../client.json`, `${shape} must not contain . or .. path segments`],
    ["a . segment", (b: string) => `${b}/./client.json`, `${shape} must not contain . or .. path segments`],
    [
      "an escaped .. segment",
      (b: string) => `${b}/a/%2E%2e/client.json`,
      `${shape} must not contain . or .. path segments`,
    ],
  ])("a client_id URL with %s (never fetched)", async (_name, make, description) => {
    const before = host.requests.length;
    await expectAuthorizeRefused(make(host.baseURL), 400, "invalid_client", description);
    expect(host.requests.length).toBe(before);
  });

  it.each([
    ["404", { status: 404, body: "{}" }, "The client ID metadata document URL answered 404"],
    ["500", { status: 500, body: "{}" }, "The client ID metadata document URL answered 500"],
    [
      "a text/html page",
      { body: "<html></html>", headers: { "content-type": "text/html" } },
      "The client ID metadata document must be served as application/json",
    ],
    [
      "no content type",
      { body: "{}", headers: { "content-type": "" } },
      "The client ID metadata document must be served as application/json",
    ],
    ["invalid JSON", { body: "{not json" }, "The client ID metadata document is not valid JSON"],
    ["invalid UTF-8", { body: Buffer.from([0x7b, 0xff, 0x7d]) }, "The client ID metadata document is not valid JSON"],
  ])("a document URL answering %s", async (_name, response, description) => {
    const id = host.serve(`/bad/${++counter}.json`, response);
    await expectAuthorizeRefused(id, 400, "invalid_client", description);
    expect(fetchesOf(id)).toHaveLength(1);
  });

  it("a redirect, which is not followed", async () => {
    const target = publish();
    const id = host.serve(`/moved/${++counter}.json`, { status: 302, headers: { location: target } });
    await expectAuthorizeRefused(
      id,
      400,
      "invalid_client",
      "The client ID metadata document URL answered 302; redirects are not followed",
    );
    expect(fetchesOf(target)).toEqual([]);
  });

  it("a document larger than maxBytes", async () => {
    const id = serveJson((url) => ({
      client_id: url,
      redirect_uris: [REDIRECT_URI],
      logo_uri: `https://x.example/${"a".repeat(3000)}`,
    }));
    await expectAuthorizeRefused(
      id,
      400,
      "invalid_client",
      "The client ID metadata document is larger than 2048 bytes",
    );
  });

  it.each([
    ["a JSON array", (url: string) => [url], "not a JSON object"],
    [
      "a client_id other than its URL",
      (url: string) => ({ client_id: `${url}?x`, redirect_uris: [REDIRECT_URI] }),
      "its client_id is not the URL it was fetched from",
    ],
    ["no client_id", () => ({ redirect_uris: [REDIRECT_URI] }), "its client_id is not the URL it was fetched from"],
    [
      "a client_secret",
      (url: string) => ({ client_id: url, redirect_uris: [REDIRECT_URI], client_secret: "s" }),
      "it must not contain a client_secret",
    ],
    [
      "client_secret_basic",
      (url: string) => ({
        client_id: url,
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: "client_secret_basic",
      }),
      "token_endpoint_auth_method client_secret_basic needs a shared secret",
    ],
    [
      "client_secret_post",
      (url: string) => ({
        client_id: url,
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: "client_secret_post",
      }),
      "token_endpoint_auth_method client_secret_post needs a shared secret",
    ],
    [
      "private_key_jwt",
      (url: string) => ({
        client_id: url,
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: "private_key_jwt",
      }),
      "token_endpoint_auth_method private_key_jwt is not supported (use none)",
    ],
    ["no redirect_uris", (url: string) => ({ client_id: url }), "redirect_uris must be a non-empty array"],
    [
      "a relative redirect URI",
      (url: string) => ({ client_id: url, redirect_uris: ["/cb"] }),
      "every redirect URI must be an absolute URL without a fragment",
    ],
    [
      "the implicit grant",
      (url: string) => ({ client_id: url, redirect_uris: [REDIRECT_URI], grant_types: ["implicit"] }),
      "grant_types may only contain authorization_code, refresh_token",
    ],
    [
      "response type token",
      (url: string) => ({ client_id: url, redirect_uris: [REDIRECT_URI], response_types: ["token"] }),
      'response_types may only contain "code"',
    ],
    [
      "a non-string client_name",
      (url: string) => ({ client_id: url, redirect_uris: [REDIRECT_URI], client_name: 1 }),
      "client_name must be a string",
    ],
  ])("a document with %s", async (_name, document, problem) => {
    const id = serveJson(document);
    await expectAuthorizeRefused(id, 400, "invalid_client", `Invalid client ID metadata document: ${problem}`);
  });

  it("a redirect_uri the document does not list", async () => {
    const id = publish({ redirect_uris: [REDIRECT_URI, "http://127.0.0.1:9999/other"] });
    const res = await authorizeRaw(emu, {
      client_id: id,
      redirect_uri: "http://127.0.0.1:9999/evil",
      response_type: "code",
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.json()).toEqual({
      error: "invalid_request",
      error_description: "redirect_uri is not one of the redirect_uris in the client ID metadata document",
    });
    // With two listed, an omitted redirect_uri is ambiguous.
    const omitted = await authorizeRaw(emu, { client_id: id, response_type: "code" });
    expect(await omitted.json()).toEqual({ error: "invalid_request", error_description: "redirect_uri is required" });
  });

  it("a host the emulator does not trust (self-signed certificate without `ca`)", async () => {
    const untrusting = await startDescopeEmulator();
    try {
      await expectAuthorizeRefused(
        publish(),
        400,
        "invalid_client",
        "Could not fetch the client ID metadata document: DEPTH_ZERO_SELF_SIGNED_CERT",
        untrusting,
      );
    } finally {
      await untrusting.close();
    }
  });

  describe("unreachable and silent hosts", () => {
    let silent: Server;
    let silentPort: number;
    beforeEach(async () => {
      // Accepts connections and never answers (not even the TLS handshake).
      const sockets = new Set<Socket>();
      silent = createServer((socket) => {
        sockets.add(socket);
      });
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      silentPort = (silent.address() as AddressInfo).port;
      return () => {
        for (const socket of sockets) socket.destroy();
        silent.close();
      };
    });

    it("a host that never answers: refused after timeoutMs", async () => {
      const quick = await startDescopeEmulator({ clientIdMetadataDocuments: { timeoutMs: 100 } });
      try {
        await expectAuthorizeRefused(
          `https://127.0.0.1:${silentPort}/client.json`,
          400,
          "invalid_client",
          "Fetching the client ID metadata document timed out after 100 ms",
          quick,
        );
      } finally {
        await quick.close();
      }
    });

    it("a port nothing listens on", async () => {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await expectAuthorizeRefused(
        `https://127.0.0.1:${silentPort}/client.json`,
        400,
        "invalid_client",
        "Could not fetch the client ID metadata document: ECONNREFUSED",
      );
    });
  });
});

describe("the token endpoint authenticates the client by its document again", () => {
  it("refuses (401 invalid_client) when the document is gone, without consuming the code", async () => {
    const { id, form } = await redeemable();
    host.unpublish(new URL(id).pathname);
    const res = await tokenRequest(emu, form);
    expect(res.status).toBe(401);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({
      error: "invalid_client",
      error_description: "Client authentication failed: The client ID metadata document URL answered 404",
    });
    host.publish({ client_id: id, redirect_uris: [REDIRECT_URI] });
    expect((await tokenRequest(emu, form)).status).toBe(200);
  });

  it("refuses a client secret (a document cannot share one)", async () => {
    const { id, form } = await redeemable();
    const withSecret = await tokenRequest(emu, { ...form, client_secret: "guess" });
    expect(withSecret.status).toBe(401);
    expect(await withSecret.json()).toEqual({
      error: "invalid_client",
      error_description:
        "Client authentication failed: a client identified by a client ID metadata document has no secret",
    });
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(id)}:guess`).toString("base64")}`;
    const withBasic = await tokenRequest(emu, { ...form, client_id: undefined }, { authorization: basic });
    expect(withBasic.status).toBe(401);
    expect(withBasic.headers.get("www-authenticate")).toBe('Basic realm="emulator"');
  });

  it("refuses a code issued to another client ID URL", async () => {
    const { form } = await redeemable();
    const res = await tokenRequest(emu, { ...form, client_id: publish() });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "invalid_grant",
      error_description: "Authorization code was issued to another client",
    });
  });
});
